package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http/httptest"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var fakeEnd = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// TestIngestAndQueriesAgainstFake runs the ingest and query client code
// against fakeServer, a stand-in for the real binary (the lead runs the
// real one), for every data set: every record must arrive despite a 429,
// right answers must pass and a wrong one must be caught.
func TestIngestAndQueriesAgainstFake(t *testing.T) {
	for _, d := range datasets {
		t.Run(d.name, func(t *testing.T) { testIngestAndQueriesAgainstFake(t, d) })
	}
}

func testIngestAndQueriesAgainstFake(t *testing.T, d dataset) {
	f := newFakeServer("", d.msgField)
	srv := httptest.NewServer(f)
	defer srv.Close()
	c := newClient(srv.URL, 3)
	c.sys.data = d
	ctx := context.Background()

	g, err := d.open(5, 3000, fakeEnd, 1)
	if err != nil {
		t.Fatal(err)
	}
	st, err := ingest(ctx, c, g, 3, 400, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.records != 3000 || f.lines != 3000 {
		t.Fatalf("ingest reported %d records, server got %d; want 3000", st.records, f.lines)
	}
	if st.retries != 1 {
		t.Errorf("%d retries, want 1 (the fake answers 429 once)", st.retries)
	}
	for i, m := range f.msgs {
		if m == "" {
			t.Fatalf("record %d reached the fake without a message in %s", i, d.msgField)
		}
	}

	// The first query of each set is a single count, which the fake can
	// get wrong.
	wrong := g.Queries()[0].Name
	f.addAnswers(g.Queries(), g.From(), wrong)
	res := runQueries(ctx, c, g.Queries(), g.From(), g.To(), 2)
	if len(res) != len(g.Queries()) {
		t.Fatalf("%d results for %d queries", len(res), len(g.Queries()))
	}
	for _, r := range res {
		if wantOK := r.Name != wrong; r.Correct != wantOK {
			t.Errorf("query %s: correct=%v (%s), want %v", r.Name, r.Correct, r.Error, wantOK)
		}
		if math.IsNaN(float64(r.MedianMs)) {
			t.Errorf("query %s: no latency", r.Name)
		}
	}
	wantArgs := g.From().Format(time.RFC3339Nano) + " " + g.To().Format(time.RFC3339Nano)
	for _, a := range f.queryArgs {
		if a != wantArgs {
			t.Fatalf("query window %q, want %q", a, wantArgs)
		}
	}
}

// TestFreshnessAgainstFake checks the probe loop against fakeServer (a
// stand-in for the real binary), which hides each marker for a few polls,
// for every data set (whose field names the probes use).
func TestFreshnessAgainstFake(t *testing.T) {
	for _, d := range datasets {
		t.Run(d.name, func(t *testing.T) { testFreshnessAgainstFake(t, d) })
	}
}

func testFreshnessAgainstFake(t *testing.T, d dataset) {
	f := newFakeServer("", d.msgField)
	f.throttled = true
	srv := httptest.NewServer(f)
	defer srv.Close()
	c := newClient(srv.URL, 3)
	c.sys.data = d
	st, err := measureFreshness(context.Background(), c, 100, 3, 9)
	if err != nil {
		t.Fatal(err)
	}
	if st.Lost != 0 || st.Probes != 3 || math.IsNaN(float64(st.P50Ms)) || math.IsNaN(float64(st.P99Ms)) {
		t.Fatalf("freshness %+v, want 3 probes found", st)
	}
	for marker, n := range f.polls {
		if n != hidePolls+1 {
			t.Errorf("marker %s polled %d times, want %d", marker, n, hidePolls+1)
		}
	}
}

// TestRunAgainstFakeBinary runs a whole bench run — start, readiness,
// ingest, flush, settle, queries, freshness, SIGTERM — with this test
// binary acting as the server (see TestMain), for every data set: a
// stand-in for the real sluice binary, which the lead runs.
func TestRunAgainstFakeBinary(t *testing.T) {
	for _, d := range datasets {
		t.Run(d.name, func(t *testing.T) { testRunAgainstFakeBinary(t, d) })
	}
}

func testRunAgainstFakeBinary(t *testing.T, d dataset) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	o := options{
		binary: self, records: 2000, concurrency: 2, batch: 300, runs: 1, queriesRepeat: 2, data: d,
		seed: 3, end: fakeEnd, freshRate: 100, probes: 3, live: true, liveRate: 200, liveWarmup: 100 * time.Millisecond,
	}
	t.Setenv("TMPDIR", t.TempDir()) // where run makes its work dir
	t.Setenv(fakeDataEnv, d.name)
	t.Setenv(fakeBinaryEnv, "1")
	t.Setenv(fakeSeedEnv, strconv.FormatUint(o.seed, 10))
	t.Setenv(fakeNEnv, strconv.Itoa(o.records))
	t.Setenv(fakeEndEnv, o.end.Format(time.RFC3339))
	var logs bytes.Buffer
	res, err := run(context.Background(), o, system{name: "sluice", binary: self, data: d}, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatalf("run: %v\n%s", err, logs.String())
	}
	if fs := res.failures(); len(fs) > 0 {
		t.Fatalf("failures: %v", fs)
	}
	if res.Records != 2000 || res.DiskBytes <= 0 || res.CPUSeconds < 0 || res.PeakRSSIngest <= 0 {
		t.Errorf("implausible figures: %+v", res)
	}
	if res.WorkDir != "" {
		t.Errorf("work dir %s kept after a good run", res.WorkDir)
	}
	if l := res.Live; l == nil || len(l.LastHour) != len(res.Queries) || len(l.Day) != len(res.Queries) ||
		len(res.QueriesLastHour) != len(res.Queries) || l.Records <= 0 || l.PartsMax < 3 {
		t.Errorf("no plausible figures under ingest: %+v, %d idle last-hour queries", l, len(res.QueriesLastHour))
	}

	rep := newReport(o, []runResult{res}, nil)
	var out bytes.Buffer
	if err := rep.writeTable(&out); err != nil {
		t.Fatal(err)
	}
	if !rep.Pass || !resultRe("PASS").MatchString(out.String()) {
		t.Errorf("report does not pass:\n%s", out.String())
	}
	// The fake refused the first insert and the first bench query once,
	// and every bench query took a search's CPU slot.
	g := res.Guard
	if g == nil || g.IngestRefused != 1 || g.QueriesRefused != 1 || g.Slots["high"].Acquired < int64(len(res.Queries)) {
		t.Errorf("guards %+v: want 1 ingest refusal, 1 query refusal, a slot taken per query", g)
	}
	for _, want := range []string{`(?m)^GUARDS\s`, `(?m)^  queries refused\s+1\s`, `(?m)^  ingest refused\s+1\s`, `(?m)^  CPU slots, high \(searches\)\s+[1-9][0-9]* taken, 0 after a wait`} {
		if !regexp.MustCompile(want).MatchString(out.String()) {
			t.Errorf("report lacks %s:\n%s", want, out.String())
		}
	}
}

func resultRe(verdict string) *regexp.Regexp {
	return regexp.MustCompile(`(?m)^RESULT\s+` + verdict + `$`)
}

func TestReportFailsOnWrongAnswer(t *testing.T) {
	o := options{records: 10, runs: 1, queriesRepeat: 1, end: fakeEnd}
	bad := runResult{Records: 10, Queries: []queryResult{
		{Name: "term", Correct: true},
		{Name: "phrase", Correct: false, Error: "n=3, want 4"},
	}}
	rep := newReport(o, []runResult{bad}, nil)
	if rep.Pass || len(rep.Failures) != 1 || !strings.Contains(rep.Failures[0], "phrase") {
		t.Fatalf("pass=%v failures=%v, want one failure for phrase", rep.Pass, rep.Failures)
	}
	var out bytes.Buffer
	if err := rep.writeTable(&out); err != nil {
		t.Fatal(err)
	}
	if s := out.String(); !strings.Contains(s, "WRONG") || !resultRe("FAIL").MatchString(s) {
		t.Errorf("table does not show the wrong answer:\n%s", s)
	}
	var js bytes.Buffer
	if err := rep.writeJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back["pass"] != false {
		t.Errorf("JSON report %v (%v) does not say pass=false", back["pass"], err)
	}
}

// TestReportWithoutRuns checks that a run that failed before measuring
// still gives a report, in JSON too, where unmeasured figures are null.
func TestReportWithoutRuns(t *testing.T) {
	rep := newReport(options{runs: 1, end: fakeEnd}, nil, errors.New("start: no binary"))
	var js bytes.Buffer
	if err := rep.writeJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Pass   bool
		Median struct {
			RecordsPerSec *float64 `json:"records_per_s"`
		}
	}
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatalf("%v in %s", err, js.String())
	}
	if back.Pass || back.Median.RecordsPerSec != nil {
		t.Errorf("pass=%v records_per_s=%v, want false and null", back.Pass, back.Median.RecordsPerSec)
	}
	var out bytes.Buffer
	if err := rep.writeTable(&out); err != nil || !strings.Contains(out.String(), "no binary") {
		t.Errorf("table %q (%v) does not show the error", out.String(), err)
	}
}

func TestBadFlagsExitTwo(t *testing.T) {
	for _, args := range [][]string{{"-n", "0"}, {"-end", "yesterday"}, {"extra"}, {"-nosuchflag"}, {"-protocol", "syslog"}, {"-dataset", "nginx"}} {
		var out, errOut bytes.Buffer
		if code := mainErr(args, &out, &errOut); code != 2 {
			t.Errorf("mainErr(%q) = %d, want 2", args, code)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		h    string
		want time.Duration
	}{
		{"", time.Second},
		{"2", 2 * time.Second},
		{"0", 10 * time.Millisecond},
		{"-5", 10 * time.Millisecond},
		{"3600", maxRetryAfter},
		{"Wed, 25 Nov 2026 12:00:05 GMT", 5 * time.Second},
		{"soon", time.Second},
	}
	for _, tt := range tests {
		if got := retryAfter(tt.h, now); got != tt.want {
			t.Errorf("retryAfter(%q) = %s, want %s", tt.h, got, tt.want)
		}
	}
}

func TestDecodeRows(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []map[string]string
		ok   bool
	}{
		{"empty", "", nil, true},
		{"counts", `{"n":12}` + "\n" + `{"level":"error","n":1.5e3}` + "\n",
			[]map[string]string{{"n": "12"}, {"level": "error", "n": "1.5e3"}}, true},
		{"count as string", `{"n":"12"}`, []map[string]string{{"n": "12"}}, true},
		{"other values as JSON", `{"a":true,"b":null,"c":{"d":[1]}}`,
			[]map[string]string{{"a": "true", "b": "null", "c": `{"d":[1]}`}}, true},
		{"not an object", `[1,2]`, nil, false},
		{"null line", `null`, nil, false},
		{"broken", `{"n":`, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeRows(strings.NewReader(tt.in))
			if (err == nil) != tt.ok || (tt.ok && !reflect.DeepEqual(got, tt.want)) {
				t.Fatalf("decodeRows = %v, %v; want %v, ok=%v", got, err, tt.want, tt.ok)
			}
		})
	}
}

func FuzzDecodeRows(f *testing.F) {
	f.Add([]byte(`{"n":12}` + "\n" + `{"level":"error","n":3}`))
	f.Add([]byte(`{"_time":"2026-11-25T12:00:00Z","n":1e2,"x":[1,{"y":null}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		rows, err := decodeRows(bytes.NewReader(b))
		if err != nil {
			return
		}
		// Rows of strings survive a round trip unchanged.
		var buf bytes.Buffer
		for _, r := range rows {
			line, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			buf.Write(line)
			buf.WriteByte('\n')
		}
		again, err := decodeRows(&buf)
		if err != nil || len(again) != len(rows) || (len(rows) > 0 && !reflect.DeepEqual(again, rows)) {
			t.Fatalf("round trip of %v gave %v, %v", rows, again, err)
		}
	})
}
