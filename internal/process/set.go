package process

import (
	"fmt"
	"maps"
	"slices"

	"github.com/sluice-log/sluice/internal/record"
)

func init() {
	Register(Spec{
		Name:    "set",
		Summary: "Sets fields and stream labels to fixed values (a field of the same name is replaced; _msg sets the message).",
		New:     func() Builder { return &setConfig{} },
	})
}

type setConfig struct {
	Fields    map[string]string `yaml:"fields" doc:"Field name: value. A stream label of that name is set instead of a field."`
	Labels    map[string]string `yaml:"labels" doc:"Stream label name: value; a field of that name becomes the label."`
	IfMissing bool              `yaml:"if_missing" doc:"Set only what the record does not have yet."`
}

func (c *setConfig) Build(Env) (Processor, error) {
	if len(c.Fields)+len(c.Labels) == 0 {
		return nil, fmt.Errorf("fields or labels: set at least one")
	}
	s := &setProc{ifMissing: c.IfMissing}
	for _, name := range slices.Sorted(maps.Keys(c.Fields)) {
		if err := checkWritable(name); err != nil {
			return nil, fmt.Errorf("fields: %w", err)
		}
		s.fields = append(s.fields, record.Field{Name: name, Value: c.Fields[name]})
	}
	for _, name := range slices.Sorted(maps.Keys(c.Labels)) {
		if err := checkLabel(name); err != nil {
			return nil, fmt.Errorf("labels: %w", err)
		}
		s.labels = append(s.labels, record.Field{Name: name, Value: c.Labels[name]})
	}
	return s, nil
}

// checkLabel refuses names that cannot be stream labels.
func checkLabel(name string) error {
	if err := checkWritable(name); err != nil {
		return err
	}
	if name == record.MessageField {
		return fmt.Errorf("_msg cannot be a stream label")
	}
	return nil
}

type setProc struct {
	fields, labels []record.Field
	ifMissing      bool
}

func (s *setProc) Process(r *record.Record) Result {
	for _, f := range s.fields {
		if s.ifMissing {
			if v, ok := r.Get(f.Name); ok && (f.Name != record.MessageField || v != "") {
				continue
			}
		}
		setField(r, f.Name, f.Value)
	}
	for _, f := range s.labels {
		if s.ifMissing {
			if _, ok := r.Get(f.Name); ok {
				continue
			}
		}
		setLabel(r, f.Name, f.Value)
	}
	return Keep
}
