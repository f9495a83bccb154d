package process

import (
	"fmt"
	"regexp"

	"github.com/sluice-log/sluice/internal/record"
)

func init() {
	Register(Spec{
		Name:    "parse_regex",
		Summary: "Matches a regular expression (Go RE2 syntax) and makes each named group ((?P<name>…) or (?<name>…)) a field. A value it does not match is counted as an error and left as it is.",
		New: func() Builder {
			return &parseRegexConfig{ParseOptions: ParseOptions{Field: record.MessageField, MessageFields: []string{"_msg", "message"}}}
		},
	})
}

type parseRegexConfig struct {
	ParseOptions `yaml:",inline"`
	Pattern      string `yaml:"pattern" doc:"The regular expression; it may match anywhere in the value (anchor it with ^ and $). Groups without a name fill nothing."`
}

func (c *parseRegexConfig) Build(Env) (Processor, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	if c.Pattern == "" {
		return nil, fmt.Errorf("pattern is required")
	}
	re, err := regexp.Compile(c.Pattern)
	if err != nil {
		return nil, fmt.Errorf("pattern: %w", err)
	}
	p := &parseRegex{out: c.ParseOptions, re: re}
	for i, name := range re.SubexpNames() {
		if name != "" {
			p.groups = append(p.groups, group{index: i, name: prefixed(c.Prefix, name)})
		}
	}
	if len(p.groups) == 0 {
		return nil, fmt.Errorf("pattern has no named group ((?P<name>…)) to make a field of")
	}
	return p, nil
}

type group struct {
	index int
	name  string
}

type parseRegex struct {
	out     ParseOptions
	re      *regexp.Regexp
	groups  []group
	scratch scratch
}

func (p *parseRegex) Process(r *record.Record) Result {
	v, ok := p.out.source(r)
	if !ok {
		return Keep
	}
	loc := p.re.FindStringSubmatchIndex(v)
	if loc == nil {
		return Fail
	}
	sp := p.scratch.get()
	fields := (*sp)[:0]
	for _, g := range p.groups {
		if a, b := loc[2*g.index], loc[2*g.index+1]; a >= 0 {
			fields = append(fields, record.Field{Name: g.name, Value: v[a:b]})
		}
	}
	defer p.scratch.put(sp, fields)
	return p.out.apply(r, fields)
}
