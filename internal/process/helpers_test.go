package process

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/sluice-log/sluice/internal/record"
)

// build makes a pipeline from the YAML of its processors list.
func build(t testing.TB, processorsYAML string) *Pipeline {
	t.Helper()
	p, err := buildErr(processorsYAML)
	if err != nil {
		t.Fatalf("build:\n%s\n%v", processorsYAML, err)
	}
	return p
}

func buildErr(processorsYAML string) (*Pipeline, error) {
	var c Config
	if err := yaml.Unmarshal([]byte("processors:\n"+indent(processorsYAML)), &c); err != nil {
		return nil, err
	}
	return c.Build(Options{Now: func() time.Time { return TestTime }})
}

func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = "  " + lines[i]
	}
	return strings.Join(lines, "\n") + "\n"
}

// rec makes a record: the message, then name, value pairs of fields;
// a name starting with "stream:" is a stream label.
func rec(msg string, kv ...string) record.Record {
	r := record.Record{Time: TestTime.UnixNano(), Message: msg}
	for i := 0; i+1 < len(kv); i += 2 {
		if name, ok := strings.CutPrefix(kv[i], "stream:"); ok {
			r.Stream = append(r.Stream, record.Field{Name: name, Value: kv[i+1]})
			continue
		}
		r.Fields = append(r.Fields, record.Field{Name: kv[i], Value: kv[i+1]})
	}
	record.SortStream(r.Stream)
	return r
}

// fields renders a record compactly: msg | name=value … | {labels}
// tenant=… when set.
func fields(r record.Record) string {
	var b strings.Builder
	b.WriteString(r.Message)
	b.WriteString(" |")
	for _, f := range r.Fields {
		b.WriteString(" " + f.Name + "=" + f.Value)
	}
	if len(r.Stream) > 0 {
		b.WriteString(" " + r.StreamString())
	}
	if r.Tenant != "" {
		b.WriteString(" tenant=" + r.Tenant)
	}
	return b.String()
}

// processCase is one row of a processor's table: a step, a record, and
// what it must become (fields' rendering, or "dropped"), with the count of
// errors expected.
type processCase struct {
	name   string
	step   string
	in     record.Record
	want   string
	errors int
}

func runCases(t *testing.T, cases []processCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := build(t, tc.step)
			r := tc.in.Clone()
			kept, _, failed := p.Trace(&r)
			got := "dropped"
			if kept {
				got = fields(r)
			}
			if got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if len(failed) != tc.errors {
				t.Errorf("errors: %v, want %d", failed, tc.errors)
			}
		})
	}
}
