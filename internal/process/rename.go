package process

import (
	"fmt"
	"maps"
	"slices"

	"github.com/sluice-log/sluice/internal/record"
)

func init() {
	Register(Spec{
		Name:    "rename",
		Summary: "Renames fields (a stream label stays a label under its new name; _msg as a source or target moves the message). All values are read before any is written, so renames may swap names.",
		New:     func() Builder { return &renameConfig{} },
	})
}

type renameConfig struct {
	Fields map[string]string `yaml:"fields" doc:"Old name: new name. A name the record does not have is skipped."`
}

func (c *renameConfig) Build(Env) (Processor, error) {
	if len(c.Fields) == 0 {
		return nil, fmt.Errorf("fields: name at least one")
	}
	p := &renameProc{}
	for _, from := range slices.Sorted(maps.Keys(c.Fields)) {
		to := c.Fields[from]
		if err := checkReadable(from); err != nil {
			return nil, fmt.Errorf("fields: %w", err)
		}
		if err := checkWritable(to); err != nil {
			return nil, fmt.Errorf("fields: %s: %w", from, err)
		}
		p.pairs = append(p.pairs, renamePair{from: from, to: to})
	}
	return p, nil
}

type renamePair struct{ from, to string }

type renameProc struct {
	pairs []renamePair
}

func (p *renameProc) Process(r *record.Record) Result {
	type moved struct {
		to, value string
		label     bool
	}
	var stack [8]moved
	out := stack[:0]
	for _, pr := range p.pairs {
		v, ok := r.Get(pr.from)
		if !ok || pr.from == record.MessageField && v == "" {
			continue
		}
		label := isLabel(r, pr.from)
		deleteField(r, pr.from)
		out = append(out, moved{to: pr.to, value: v, label: label && pr.to != record.MessageField})
	}
	for _, m := range out {
		if m.label {
			setLabel(r, m.to, m.value)
		} else {
			setField(r, m.to, m.value)
		}
	}
	return Keep
}

func isLabel(r *record.Record, name string) bool {
	for i := range r.Stream {
		if r.Stream[i].Name == name {
			return true
		}
	}
	return false
}
