package process

import (
	"fmt"

	"github.com/sluice-log/sluice/internal/process/grok"
	"github.com/sluice-log/sluice/internal/record"
)

func init() {
	Register(Spec{
		Name:    "grok",
		Summary: "Matches grok patterns (%{NAME:field} and %{NAME:field:int|float} over the common library: COMBINEDAPACHELOG, COMMONAPACHELOG, SYSLOGLINE, SYSLOGBASE, TIMESTAMP_ISO8601, HTTPDATE, LOGLEVEL, IP, IPV4, IPV6, HOSTNAME, IPORHOST, URI, UUID, MAC, NUMBER, INT, WORD, NOTSPACE, DATA, GREEDYDATA, QUOTEDSTRING, EMAILADDRESS, JAVASTACKTRACEPART, …) and makes each named capture a field. The first pattern that matches wins; a value none matches is counted as an error and left as it is.",
		New: func() Builder {
			return &grokConfig{ParseOptions: ParseOptions{Field: record.MessageField, MessageFields: []string{"message"}}}
		},
	})
}

type grokConfig struct {
	ParseOptions       `yaml:",inline"`
	Patterns           []string          `yaml:"patterns" doc:"Grok patterns, tried in order; each may match anywhere in the value (anchor it with ^ and $)."`
	PatternDefinitions map[string]string `yaml:"pattern_definitions" doc:"Patterns of your own (NAME: regular expression, which may use %{OTHER}), added to the library for this step."`
}

func (c *grokConfig) Build(Env) (Processor, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	if len(c.Patterns) == 0 {
		return nil, fmt.Errorf("patterns: at least one is required")
	}
	lib := grok.Default.With(c.PatternDefinitions)
	p := &grokProc{out: c.ParseOptions}
	for i, s := range c.Patterns {
		g, err := grok.Compile(s, lib)
		if err != nil {
			return nil, fmt.Errorf("patterns[%d]: %w", i, err)
		}
		if len(g.Captures()) == 0 {
			return nil, fmt.Errorf("patterns[%d] %q captures no field (write %%{NAME:field})", i, s)
		}
		p.patterns = append(p.patterns, g)
	}
	return p, nil
}

type grokProc struct {
	out      ParseOptions
	patterns []*grok.Pattern
	scratch  scratch
}

func (p *grokProc) Process(r *record.Record) Result {
	v, ok := p.out.source(r)
	if !ok {
		return Keep
	}
	sp := p.scratch.get()
	fields := (*sp)[:0]
	defer func() { p.scratch.put(sp, fields) }()
	set := func(c grok.Capture, value string) {
		// Alternatives may fill one field twice: the first wins.
		name := prefixed(p.out.Prefix, c.Field)
		if indexOf(fields, name) >= 0 {
			return
		}
		if c.Type != "" {
			// A typed capture that does not convert keeps its text.
			value, _ = coercions[c.Type](value)
		}
		fields = append(fields, record.Field{Name: name, Value: value})
	}
	for _, g := range p.patterns {
		if g.Match(v, set) {
			return p.out.apply(r, fields)
		}
	}
	return Fail
}
