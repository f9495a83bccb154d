package process

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sluice-log/sluice/internal/record"
)

func TestPipelineConditionsAndCounts(t *testing.T) {
	m := NewMetrics(prometheus.NewRegistry())
	c := mustParse(t, `
processors:
  - type: parse_json
  - type: drop
    if: 'level:debug AND service:noisy'
  - type: set
    if: 'status:>=500'
    fields: {alert: "yes"}
  - type: set
    name: tag
    fields: {seen: "1"}
`)
	p, err := c.Build(Options{Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.String(); got != "parse_json → drop → set → tag (set)" {
		t.Errorf("steps %q", got)
	}
	out := p.Process([]record.Record{
		rec(`{"level":"debug","service":"noisy","msg":"a"}`),
		rec(`{"level":"info","status":503,"msg":"b"}`),
		rec(`not json`),
	})
	var got []string
	for _, r := range out {
		got = append(got, fields(r))
	}
	want := []string{"b | level=info status=503 alert=yes seen=1", "not json | seen=1"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, tc := range []struct {
		vec  *prometheus.CounterVec
		step string
		want float64
		what string
	}{
		{m.records, "parse_json", 3, "records"}, {m.errors, "parse_json", 1, "errors"},
		{m.records, "drop", 1, "records"}, {m.dropped, "drop", 1, "dropped"},
		{m.records, "set", 1, "records"}, {m.records, "tag", 2, "records"},
	} {
		if got := testutil.ToFloat64(tc.vec.WithLabelValues(tc.step)); got != tc.want {
			t.Errorf("%s{step=%s} = %v, want %v", tc.what, tc.step, got, tc.want)
		}
	}
}

func TestPipelineBuildErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"processors: [{type: nope}]", `unknown processor type "nope"`},
		{"processors: [{fields: [a]}]", "needs a type"},
		{"processors: [parse_json]", "a step is a mapping"},
		{"processors: [{type: drop, if: 'a:('}]", "if:"},
		{"processors: [{type: drop, if: '* | limit 1'}]", "has pipes"},
		{"processors: [{type: set, name: x, fields: {a: b}}, {type: drop, name: x}]", `step name "x" is used twice`},
		{"processors: [{type: parse_json, feild: x}]", "field feild not found"},
		{"processors: [{type: parse_json, if: [a]}]", "if must be a string"},
	} {
		c, err := ParseConfig(strings.NewReader(tc.yaml))
		if err == nil {
			_, err = c.Build(Options{})
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", tc.yaml, err, tc.want)
		}
	}
	// Every invalid step is reported at once.
	c := mustParse(t, "processors: [{type: nope}, {type: parse_regex}, {type: set, fields: {a: b}}]")
	_, err := c.Build(Options{})
	if err == nil || !strings.Contains(err.Error(), "processors[0]") || !strings.Contains(err.Error(), "processors[1]") {
		t.Errorf("want both errors, got %v", err)
	}
	if _, err := ParseConfig(strings.NewReader("processor: []")); err == nil {
		t.Error("unknown key accepted")
	}
}

func TestTrace(t *testing.T) {
	p := build(t, "- {type: parse_json, name: json}\n- {type: drop, name: nodebug, if: 'level:debug'}")
	r := rec(`{"level":"debug"}`)
	kept, by, failed := p.Trace(&r)
	if kept || by != "nodebug" || len(failed) != 0 {
		t.Errorf("Trace: %v %q %v", kept, by, failed)
	}
	r = rec("text")
	kept, by, failed = p.Trace(&r)
	if !kept || by != "" || strings.Join(failed, ",") != "json" {
		t.Errorf("Trace: %v %q %v", kept, by, failed)
	}
}

func TestConfigTests(t *testing.T) {
	c := mustParse(t, `
processors:
  - type: parse_json
  - type: route
    routes: [{if: 'team:pay', tenant: payments}]
  - type: redact
    patterns: [card_number]
  - type: sample
    if: 'level:debug'
    rate: 2
tests:
  - name: json and route
    input: '{"team":"pay","msg":"card 4111111111111111","level":"info"}'
    expect: {_msg: "card [REDACTED:card_number]", team: pay, level: info, _tenant: payments}
  - name: structured input, time and labels
    input: {_msg: 'x', _time: '2026-05-06T07:08:09Z', _stream: {service: api}, k: v}
    expect: {_msg: x, k: v, _time: '2026-05-06T07:08:09Z', _stream: {service: api}, service: api}
  - name: sampling keeps the first of two
    input: ['{"level":"debug","msg":"1"}', '{"level":"debug","msg":"2"}', '{"level":"debug","msg":"3"}']
    expect: [{_msg: "1", level: debug}, {_msg: "3", level: debug}]
  - name: fails on purpose
    input: 'plain'
    expect: {_msg: other}
  - name: dropped but expected
    input: 'plain'
    expect: []
  - name: an extra field is a failure
    input: '{"a":1,"b":2}'
    expect: {_msg: '{"a":1,"b":2}', a: "1"}
  - name: missing expect
    input: 'x'
`)
	res := c.RunTests()
	var got []string
	for _, r := range res {
		s := r.Name + ": ok"
		if r.Err != nil {
			s = r.Name + ": " + r.Err.Error()
		}
		got = append(got, s)
	}
	for i, want := range []string{
		"json and route: ok",
		"structured input, time and labels: ok",
		"sampling keeps the first of two: ok",
		`fails on purpose: record 0: _msg is "plain", want "other"`,
		"dropped but expected: 1 records came out, 0 expected",
		`an extra field is a failure: record 0: unexpected field b="2"`,
		"missing expect: expect: missing",
	} {
		if i >= len(got) || !strings.HasPrefix(got[i], want) {
			t.Errorf("test %d: got %q, want it to start with %q", i, got[i], want)
		}
	}
	if err := TestsFailed(res); err == nil || strings.Count(err.Error(), "test \"") != 4 {
		t.Errorf("TestsFailed: %v", err)
	}
}

// FuzzTestCases reads arbitrary test cases: bad ones are errors, never
// panics.
func FuzzTestCases(f *testing.F) {
	f.Add("{_msg: x, _time: '2026-01-01T00:00:00Z', _stream: {a: b}, f: 1}")
	f.Add("[a, {_stream: x}, [1]]")
	f.Add("{_time: never}")
	f.Fuzz(func(t *testing.T, in string) {
		c, err := ParseConfig(strings.NewReader("processors: [{type: set, fields: {x: y}}]\ntests: [{input: " + in + ", expect: " + in + "}]"))
		if err != nil {
			return
		}
		c.RunTests()
	})
}
