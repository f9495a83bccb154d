package process

import (
	"fmt"

	"github.com/sluice-log/sluice/internal/record"
)

func init() {
	Register(Spec{
		Name:    "drop",
		Summary: "Removes fields, or, without fields, drops the whole record (give it a condition: if). Dropped records are counted in sluice_processor_dropped_records_total.",
		New:     func() Builder { return &dropConfig{} },
	})
}

type dropConfig struct {
	Fields []string `yaml:"fields" doc:"Fields (or stream labels) to remove; _msg empties the message. Empty: drop the record."`
}

func (c *dropConfig) Build(Env) (Processor, error) {
	for _, f := range c.Fields {
		if err := checkWritable(f); err != nil {
			return nil, fmt.Errorf("fields: %w", err)
		}
	}
	return &dropProc{fields: c.Fields}, nil
}

type dropProc struct {
	fields []string
}

func (d *dropProc) Process(r *record.Record) Result {
	if len(d.fields) == 0 {
		return Drop
	}
	for _, f := range d.fields {
		deleteField(r, f)
	}
	return Keep
}
