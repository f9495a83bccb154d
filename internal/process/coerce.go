package process

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/sluice-log/sluice/internal/record"
)

func init() {
	Register(Spec{
		Name:    "coerce",
		Summary: "Converts fields to a type, so that numeric filters and stats see clean values: int (\"0042\" → 42, \"12.7\" → 12), float (\"1.50\" → 1.5), bool (true/false from yes/no, on/off, 1/0, any case), lower, upper, trim. A value that does not convert stays as it is and the step counts an error.",
		New:     func() Builder { return &coerceConfig{} },
	})
}

type coerceConfig struct {
	Fields map[string]string `yaml:"fields" doc:"Field name: type (int, float, bool, lower, upper or trim)."`
}

var coercions = map[string]func(string) (string, bool){
	"int":   toInt,
	"float": toFloat,
	"bool":  toBool,
	"lower": func(s string) (string, bool) { return strings.ToLower(s), true },
	"upper": func(s string) (string, bool) { return strings.ToUpper(s), true },
	"trim":  func(s string) (string, bool) { return strings.TrimSpace(s), true },
}

func (c *coerceConfig) Build(Env) (Processor, error) {
	if len(c.Fields) == 0 {
		return nil, fmt.Errorf("fields: name at least one")
	}
	p := &coerceProc{}
	for _, name := range slices.Sorted(maps.Keys(c.Fields)) {
		if err := checkWritable(name); err != nil {
			return nil, fmt.Errorf("fields: %w", err)
		}
		fn, ok := coercions[c.Fields[name]]
		if !ok {
			return nil, fmt.Errorf("fields: %s: type %q: want one of %v", name, c.Fields[name], slices.Sorted(maps.Keys(coercions)))
		}
		p.fields = append(p.fields, coercion{name: name, fn: fn})
	}
	return p, nil
}

type coercion struct {
	name string
	fn   func(string) (string, bool)
}

type coerceProc struct {
	fields []coercion
}

func (p *coerceProc) Process(r *record.Record) Result {
	res := Keep
	for _, c := range p.fields {
		v, ok := r.Get(c.name)
		if !ok {
			continue
		}
		out, ok := c.fn(v)
		if !ok {
			res = Fail
			continue
		}
		if out != v {
			setField(r, c.name, out)
		}
	}
	return res
}

func toInt(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return strconv.FormatInt(n, 10), true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.Abs(f) >= 1<<63 {
		return s, false
	}
	return strconv.FormatInt(int64(f), 10), true
}

func toFloat(s string) (string, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return s, false
	}
	return strconv.FormatFloat(f, 'f', -1, 64), true
}

func toBool(s string) (string, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "y", "on", "1", "t":
		return "true", true
	case "false", "no", "n", "off", "0", "f":
		return "false", true
	}
	return s, false
}
