package process

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/query"
	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/store"
)

// Config is a pipeline's configuration: its steps in order and the test
// cases that check them. It is the whole of a pipeline file (the server's
// pipeline.file) and a part of the agent's configuration.
type Config struct {
	Processors []yaml.Node `yaml:"processors" doc:"The steps, in order. Each is a mapping with the processor's type, an optional name (the label of its metrics; default: its type, then type_2, …), an optional condition if (a query filter: the step processes only the records it matches; the others pass unchanged) and the processor's own options (docs/pipeline.md)."`
	Tests      []TestCase  `yaml:"tests" doc:"Test cases: input records and what they must become (docs/pipeline.md). sluice pipeline test runs them; the server also runs them before it takes a changed pipeline file, and keeps the previous one if any fails."`
}

// ParseConfig reads a pipeline file: processors and tests, nothing else.
func ParseConfig(r io.Reader) (Config, error) {
	var c Config
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, err
	}
	return c, nil
}

// LoadConfig reads the pipeline file at path.
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read pipeline: %w", err)
	}
	c, err := ParseConfig(bytes.NewReader(b))
	if err != nil {
		return Config{}, fmt.Errorf("pipeline %s: %w", path, err)
	}
	return c, nil
}

// Options are what a pipeline is built with.
type Options struct {
	// Now is the clock of processors that count time; nil means time.Now.
	Now func() time.Time
	// Metrics counts what the steps do; nil counts nothing.
	Metrics *Metrics
}

// Pipeline runs records through its steps. It is safe for concurrent use.
type Pipeline struct {
	steps []step
}

type step struct {
	name string
	kind string
	cond store.Filter // nil: every record
	proc Processor
	c    stepCounters
}

// Build validates every step and makes the pipeline; the error lists every
// invalid step at once.
func (c Config) Build(o Options) (*Pipeline, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	p := &Pipeline{}
	names := stepNames{kinds: map[string]int{}, used: map[string]bool{}}
	var errs []error
	for i := range c.Processors {
		s, err := buildStep(&c.Processors[i], o, &names)
		if err != nil {
			errs = append(errs, fmt.Errorf("processors[%d]: %w", i, err))
			continue
		}
		p.steps = append(p.steps, s)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return p, nil
}

// Keys every step has besides its processor's options.
const (
	keyType = "type"
	keyName = "name"
	keyIf   = "if"
)

// stepNames hands out the default names of steps (type, type_2, …) and
// refuses a name used twice.
type stepNames struct {
	kinds map[string]int
	used  map[string]bool
}

func buildStep(n *yaml.Node, o Options, names *stepNames) (step, error) {
	if n.Kind != yaml.MappingNode {
		return step{}, fmt.Errorf("line %d: a step is a mapping with a type", n.Line)
	}
	var kind, name, cond string
	rest := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case keyType, keyName, keyIf:
			if v.Kind != yaml.ScalarNode {
				return step{}, fmt.Errorf("line %d: %s must be a string", k.Line, k.Value)
			}
			switch k.Value {
			case keyType:
				kind = v.Value
			case keyName:
				name = v.Value
			default:
				cond = v.Value
			}
		default:
			rest.Content = append(rest.Content, k, v)
		}
	}
	if kind == "" {
		return step{}, fmt.Errorf("line %d: a step needs a type", n.Line)
	}
	spec, err := lookup(kind)
	if err != nil {
		return step{}, fmt.Errorf("line %d: %w", n.Line, err)
	}
	names.kinds[kind]++
	if name == "" {
		name = kind
		if k := names.kinds[kind]; k > 1 {
			name = fmt.Sprintf("%s_%d", kind, k)
		}
	}
	if names.used[name] {
		return step{}, fmt.Errorf("line %d: step name %q is used twice; give the steps distinct names", n.Line, name)
	}
	names.used[name] = true
	s := step{name: name, kind: kind, c: o.Metrics.step(name)}
	if cond != "" {
		if s.cond, err = CompileCondition(cond); err != nil {
			return step{}, fmt.Errorf("%s (line %d): if: %w", name, n.Line, err)
		}
	}
	b := spec.New()
	if err := config.DecodeStrict(rest, b); err != nil {
		return step{}, fmt.Errorf("%s (%s, line %d): %w", name, kind, n.Line, err)
	}
	if s.proc, err = b.Build(Env{Now: o.Now, Metrics: o.Metrics, Step: name}); err != nil {
		return step{}, fmt.Errorf("%s (%s, line %d): %w", name, kind, n.Line, err)
	}
	return s, nil
}

// CompileCondition compiles a condition written in the query filter
// language (level:error AND service:api, status:>=500, _msg:~"timeout").
// Relative times in it (_time:>now-1h) are resolved once, when it is
// compiled.
func CompileCondition(s string) (store.Filter, error) {
	q, err := query.Parse(s)
	if err != nil {
		return nil, err
	}
	if len(q.Pipes) > 0 {
		return nil, fmt.Errorf("a condition is a filter; %q has pipes", s)
	}
	return q.Compile(), nil
}

// Len is the number of steps.
func (p *Pipeline) Len() int {
	if p == nil {
		return 0
	}
	return len(p.steps)
}

// Process runs recs through the steps, in place, and returns the records
// kept (a prefix of recs' backing array, in their order).
func (p *Pipeline) Process(recs []record.Record) []record.Record {
	if p.Len() == 0 {
		return recs
	}
	var stack [16][3]int
	var counts [][3]int
	if len(p.steps) <= len(stack) {
		counts = stack[:len(p.steps)]
	} else {
		counts = make([][3]int, len(p.steps))
	}
	kept := recs[:0]
	for i := range recs {
		r := &recs[i]
		if p.run(r, counts, nil) {
			kept = append(kept, *r)
		}
	}
	for i := range p.steps {
		p.steps[i].c.add(counts[i][0], counts[i][1], counts[i][2])
	}
	// Dropped records' slots keep no references.
	clear(recs[len(kept):])
	return kept
}

// run passes r through every step and reports whether it is kept; counts
// collects records, drops and errors per step; trace, when set, hears of
// every step that did something other than keep.
func (p *Pipeline) run(r *record.Record, counts [][3]int, trace func(step string, res Result)) bool {
	for j := range p.steps {
		s := &p.steps[j]
		if s.cond != nil && !s.cond.Match(r) {
			continue
		}
		res := s.proc.Process(r)
		if counts != nil {
			counts[j][0]++
		}
		switch res {
		case Drop:
			if counts != nil {
				counts[j][1]++
			}
			if trace != nil {
				trace(s.name, res)
			}
			return false
		case Fail:
			if counts != nil {
				counts[j][2]++
			}
			if trace != nil {
				trace(s.name, res)
			}
		}
	}
	return true
}

// Trace runs one record through the steps and says which step dropped it
// ("" if kept) and which failed on it, for `sluice pipeline test`.
func (p *Pipeline) Trace(r *record.Record) (kept bool, droppedBy string, failed []string) {
	if p.Len() == 0 {
		return true, "", nil
	}
	kept = p.run(r, nil, func(step string, res Result) {
		if res == Drop {
			droppedBy = step
		} else {
			failed = append(failed, step)
		}
	})
	return kept, droppedBy, failed
}

// Steps names the steps in order (type and name), for status and logs.
func (p *Pipeline) Steps() []string {
	if p == nil {
		return nil
	}
	out := make([]string, len(p.steps))
	for i, s := range p.steps {
		out[i] = s.name
		if s.name != s.kind {
			out[i] = s.name + " (" + s.kind + ")"
		}
	}
	return out
}

// String describes the pipeline in one line.
func (p *Pipeline) String() string {
	return strings.Join(p.Steps(), " → ")
}
