package process

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/sluice-log/sluice/internal/record"
)

// A Processor changes one record in place. Processors are shared by every
// goroutine that runs the pipeline, so Process must be safe for
// concurrent use.
type Processor interface {
	Process(r *record.Record) Result
}

// Result is what a processor did with a record.
type Result uint8

const (
	// Keep passes the record on (changed or not).
	Keep Result = iota
	// Drop removes the record (a drop, sample or rate limit the
	// configuration asked for); it is counted.
	Drop
	// Fail passes the record on unchanged: the processor could not do its
	// work (input that does not parse, a pattern that does not match). It
	// is counted as the step's error.
	Fail
)

// A Builder is a processor's configuration: the struct that its Spec's
// New returns with the defaults set, which the YAML is decoded over.
// Build validates it and makes the processor.
type Builder interface {
	Build(env Env) (Processor, error)
}

// Env is what a processor may use when it is built.
type Env struct {
	// Now is the clock of processors that count time (rate_limit);
	// time.Now unless a test fixes it.
	Now func() time.Time
	// Metrics counts what steps did; nil counts nothing.
	Metrics *Metrics
	// Step is the step's name, the label of its metrics.
	Step string
}

// Spec describes one kind of processor.
type Spec struct {
	// Name is the step's type in YAML.
	Name string
	// Summary is one sentence for the docs.
	Summary string
	// New returns the configuration with its defaults.
	New func() Builder
}

var specs = map[string]Spec{}

// Register adds a kind of processor; each processor's file calls it from
// init().
func Register(s Spec) {
	if _, dup := specs[s.Name]; dup {
		panic("process: processor " + s.Name + " registered twice")
	}
	specs[s.Name] = s
}

// Specs lists every kind of processor, by name.
func Specs() []Spec {
	out := make([]Spec, 0, len(specs))
	for _, s := range specs {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func lookup(name string) (Spec, error) {
	s, ok := specs[name]
	if !ok {
		names := make([]string, 0, len(specs))
		for n := range specs {
			names = append(names, n)
		}
		slices.Sort(names)
		return Spec{}, fmt.Errorf("unknown processor type %q; known: %v", name, names)
	}
	return s, nil
}
