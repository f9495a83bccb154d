package process

import (
	"fmt"

	"github.com/sluice-log/sluice/internal/record"
)

func init() {
	Register(Spec{
		Name:    "stream",
		Summary: "Makes fields stream labels (the few labels that identify where a record came from and that queries select by: {service=\"api\"}). Fields the record lacks are skipped.",
		New:     func() Builder { return &streamConfig{} },
	})
}

type streamConfig struct {
	Fields []string `yaml:"fields" doc:"Fields to make stream labels."`
}

func (c *streamConfig) Build(Env) (Processor, error) {
	if len(c.Fields) == 0 {
		return nil, fmt.Errorf("fields: name at least one")
	}
	for _, f := range c.Fields {
		if err := checkLabel(f); err != nil {
			return nil, fmt.Errorf("fields: %w", err)
		}
	}
	return &streamProc{fields: c.Fields}, nil
}

type streamProc struct {
	fields []string
}

func (s *streamProc) Process(r *record.Record) Result {
	for _, name := range s.fields {
		for i := range r.Fields {
			if r.Fields[i].Name == name {
				setLabel(r, name, r.Fields[i].Value)
				break
			}
		}
	}
	return Keep
}
