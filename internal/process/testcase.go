package process

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/record"
)

// TestCase is one of a configuration's own tests, as Vector's unit tests
// are: input records and what the pipeline must make of them.
type TestCase struct {
	Name string `yaml:"name"`
	// Input is one record or a list of them. A record is a string (its
	// message) or a mapping: _msg, _time, _tenant, _stream (a mapping of
	// labels) and any other keys as fields.
	Input yaml.Node `yaml:"input"`
	// Expect is the record, or the list of records, that come out ([]:
	// every input dropped). An expected record lists _msg and every
	// field the output has; _time, _tenant and _stream are compared when
	// given; a key names a field or a stream label.
	Expect yaml.Node `yaml:"expect"`
}

// TestTime is the time of test inputs without a _time, and the clock the
// pipeline runs on during tests, so that expected output never depends on
// when the tests run.
var TestTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// TestResult is the outcome of one test case.
type TestResult struct {
	Name string
	Err  error // nil: passed
}

// RunTests runs every test case, each on a pipeline of its own (so that
// samplers and rate limits start afresh), and returns their results.
func (c Config) RunTests() []TestResult {
	out := make([]TestResult, 0, len(c.Tests))
	for i, tc := range c.Tests {
		name := tc.Name
		if name == "" {
			name = fmt.Sprintf("tests[%d]", i)
		}
		out = append(out, TestResult{Name: name, Err: c.runTest(tc)})
	}
	return out
}

// TestsFailed joins the errors of the failed tests; nil when all passed.
func TestsFailed(results []TestResult) error {
	var errs []error
	for _, r := range results {
		if r.Err != nil {
			errs = append(errs, fmt.Errorf("test %q: %w", r.Name, r.Err))
		}
	}
	return errors.Join(errs...)
}

func (c Config) runTest(tc TestCase) error {
	p, err := c.Build(Options{Now: func() time.Time { return TestTime }})
	if err != nil {
		return err
	}
	inputs, err := testRecords(&tc.Input, "input")
	if err != nil {
		return err
	}
	if len(inputs) == 0 {
		return errors.New("input: no record")
	}
	if tc.Expect.Kind == 0 {
		return errors.New("expect: missing (write [] when every input is dropped)")
	}
	expect, err := testRecords(&tc.Expect, "expect")
	if err != nil {
		return err
	}
	recs := make([]record.Record, len(inputs))
	for i, in := range inputs {
		recs[i] = in.rec
	}
	got := p.Process(recs)
	if len(got) != len(expect) {
		return fmt.Errorf("%d records came out, %d expected:\n%s", len(got), len(expect), formatRecords(got))
	}
	for i := range got {
		if err := expect[i].check(&got[i]); err != nil {
			return fmt.Errorf("record %d: %w\ngot: %s", i, err, record.AppendJSON(nil, &got[i]))
		}
	}
	return nil
}

func formatRecords(recs []record.Record) string {
	var b strings.Builder
	for i := range recs {
		b.Write(record.AppendJSON(nil, &recs[i]))
		b.WriteByte('\n')
	}
	return b.String()
}

// testRecord is a record of a test case as written: the record, and which
// of the special keys were given.
type testRecord struct {
	rec                  record.Record
	time, tenant, stream bool
}

// testRecords reads a record or a list of them.
func testRecords(n *yaml.Node, what string) ([]testRecord, error) {
	if n.Kind == yaml.SequenceNode {
		out := make([]testRecord, 0, len(n.Content))
		for i, c := range n.Content {
			r, err := testRecordOf(c)
			if err != nil {
				return nil, fmt.Errorf("%s[%d]: %w", what, i, err)
			}
			out = append(out, r)
		}
		return out, nil
	}
	if n.Kind == 0 {
		return nil, nil
	}
	r, err := testRecordOf(n)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return []testRecord{r}, nil
}

func testRecordOf(n *yaml.Node) (testRecord, error) {
	tr := testRecord{rec: record.Record{Time: TestTime.UnixNano()}}
	switch n.Kind {
	case yaml.ScalarNode:
		tr.rec.Message = n.Value
		return tr, nil
	case yaml.MappingNode:
	default:
		return tr, fmt.Errorf("line %d: a record is a string (its message) or a mapping", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i].Value, n.Content[i+1]
		if k == record.StreamField {
			if v.Kind != yaml.MappingNode {
				return tr, fmt.Errorf("line %d: _stream is a mapping of labels", v.Line)
			}
			var labels map[string]string
			if err := v.Decode(&labels); err != nil {
				return tr, fmt.Errorf("line %d: _stream: %w", v.Line, err)
			}
			for _, name := range slices.Sorted(maps.Keys(labels)) {
				tr.rec.Stream = append(tr.rec.Stream, record.Field{Name: name, Value: labels[name]})
			}
			tr.stream = true
			continue
		}
		if v.Kind != yaml.ScalarNode {
			return tr, fmt.Errorf("line %d: %s: a value is a string or a number", v.Line, k)
		}
		switch k {
		case record.MessageField:
			tr.rec.Message = v.Value
		case record.TimeField:
			ts, ok := ingest.ParseTime(v.Value)
			if !ok {
				return tr, fmt.Errorf("line %d: _time %q: want %s", v.Line, v.Value, ingest.TimeFormats)
			}
			tr.rec.Time, tr.time = ts, true
		case TenantField:
			tr.rec.Tenant, tr.tenant = v.Value, true
		default:
			tr.rec.Fields = append(tr.rec.Fields, record.Field{Name: k, Value: v.Value})
		}
	}
	return tr, nil
}

// check compares a record that came out with e, an expected record.
func (e *testRecord) check(got *record.Record) error {
	var diffs []string
	if got.Message != e.rec.Message {
		diffs = append(diffs, fmt.Sprintf("_msg is %q, want %q", got.Message, e.rec.Message))
	}
	if e.time && got.Time != e.rec.Time {
		diffs = append(diffs, fmt.Sprintf("_time is %s, want %s", formatTime(got.Time), formatTime(e.rec.Time)))
	}
	if e.tenant && got.Tenant != e.rec.Tenant {
		diffs = append(diffs, fmt.Sprintf("_tenant is %q, want %q", got.Tenant, e.rec.Tenant))
	}
	if e.stream && record.StreamString(got.Stream) != record.StreamString(e.rec.Stream) {
		diffs = append(diffs, fmt.Sprintf("_stream is %s, want %s", record.StreamString(got.Stream), record.StreamString(e.rec.Stream)))
	}
	want := map[string]bool{}
	for _, f := range e.rec.Fields {
		want[f.Name] = true
		v, ok := got.Get(f.Name)
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%s is missing, want %q", f.Name, f.Value))
		case v != f.Value:
			diffs = append(diffs, fmt.Sprintf("%s is %q, want %q", f.Name, v, f.Value))
		}
	}
	for _, f := range got.Fields {
		if !want[f.Name] {
			diffs = append(diffs, fmt.Sprintf("unexpected field %s=%q", f.Name, f.Value))
		}
	}
	if len(diffs) > 0 {
		return errors.New(strings.Join(diffs, "; "))
	}
	return nil
}

func formatTime(ns int64) string { return time.Unix(0, ns).UTC().Format(time.RFC3339Nano) }

// ParseRecord reads a record written as test cases write one: a JSON or
// YAML object with _msg, _time, _tenant, _stream (an object of labels)
// and fields, or a string (its message). A record without _time gets now.
func ParseRecord(b []byte, now time.Time) (record.Record, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return record.Record{}, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return record.Record{}, errors.New("want one record")
	}
	tr, err := testRecordOf(doc.Content[0])
	if err != nil {
		return record.Record{}, err
	}
	if !tr.time {
		tr.rec.Time = now.UnixNano()
	}
	return tr.rec, nil
}
