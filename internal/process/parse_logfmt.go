package process

import (
	"github.com/sluice-log/sluice/internal/logfmt"
	"github.com/sluice-log/sluice/internal/record"
)

func init() {
	Register(Spec{
		Name:    "parse_logfmt",
		Summary: "Parses key=value pairs (logfmt: values may be \"quoted\" with \\\" escapes; bare words are skipped) into fields. A value without any pair is counted as an error and left as it is.",
		New: func() Builder {
			return &parseLogfmtConfig{ParseOptions: ParseOptions{Field: record.MessageField, MessageFields: []string{"msg", "message"}}}
		},
	})
}

type parseLogfmtConfig struct {
	ParseOptions `yaml:",inline"`
}

func (c *parseLogfmtConfig) Build(Env) (Processor, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &parseLogfmt{out: c.ParseOptions}, nil
}

type parseLogfmt struct {
	out     ParseOptions
	scratch scratch
}

func (p *parseLogfmt) Process(r *record.Record) Result {
	v, ok := p.out.source(r)
	if !ok {
		return Keep
	}
	sp := p.scratch.get()
	fields := logfmt.Parse(v, (*sp)[:0])
	defer func() { p.scratch.put(sp, fields) }()
	if len(fields) == 0 {
		return Fail
	}
	if p.out.Prefix != "" {
		for i := range fields {
			fields[i].Name = prefixed(p.out.Prefix, fields[i].Name)
		}
	}
	return p.out.apply(r, fields)
}
