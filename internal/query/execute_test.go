package query

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/record"
)

// base is 2024-05-01T10:00:00Z.
var base = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC).UnixNano()

func rec(min int, service, level, msg string, fields ...string) record.Record {
	r := record.Record{
		Time:    base + int64(min)*int64(time.Minute),
		Stream:  []record.Field{{Name: "host", Value: "web-1"}, {Name: "service", Value: service}},
		Message: msg,
		Fields:  []record.Field{{Name: "level", Value: level}},
	}
	for i := 0; i+1 < len(fields); i += 2 {
		r.Fields = append(r.Fields, record.Field{Name: fields[i], Value: fields[i+1]})
	}
	return r
}

// testData is small enough to check every answer by hand.
func testData() sliceSearcher {
	return sliceSearcher{
		rec(0, "payments", "info", "payment accepted", "status", "200", "latency_ms", "120"),
		rec(5, "payments", "error", "upstream timeout after 30s", "status", "504", "latency_ms", "30000"),
		rec(10, "checkout", "error", "dial tcp: Connection refused", "status", "502", "latency_ms", "3"),
		rec(30, "payments", "error", "connection refused by db", "status", "500", "latency_ms", "1500"),
		rec(65, "checkout", "warn", "slow response", "status", "200", "latency_ms", "999"),
		rec(70, "payments", "info", "refused connection, retrying", "status", "200", "latency_ms", "n/a"),
		rec(125, "auth", "error", "Timeout talking to ldap", "status", "503"),
		rec(130, "checkout", "debug", "cache miss"),
	}
}

// run executes s and returns each row as JSON.
func run(t *testing.T, src sliceSearcher, s string, opts Options) []string {
	t.Helper()
	q, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	var out []string
	err = Execute(context.Background(), src, q, opts, func(r Row) error {
		out = append(out, string(r.AppendJSON(nil)))
		return nil
	})
	if err != nil {
		t.Fatalf("Execute(%q): %v", s, err)
	}
	return out
}

// messages executes s and returns the messages of the record rows.
func messages(t *testing.T, src sliceSearcher, s string, opts Options) []string {
	t.Helper()
	q, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	var out []string
	err = Execute(context.Background(), src, q, opts, func(r Row) error {
		if r.Record == nil {
			t.Fatalf("Execute(%q) gave a stats row to a plain search", s)
		}
		out = append(out, r.Record.Message)
		return nil
	})
	if err != nil {
		t.Fatalf("Execute(%q): %v", s, err)
	}
	return out
}

func TestExecuteSearch(t *testing.T) {
	tests := []struct {
		q    string
		want []string // messages, newest first
	}{
		{`service:payments AND status:>=500`, []string{"connection refused by db", "upstream timeout after 30s"}},
		{`timeout`, []string{"Timeout talking to ldap", "upstream timeout after 30s"}},
		{`"connection refused"`, []string{"connection refused by db", "dial tcp: Connection refused"}},
		{`latency_ms:>1000`, []string{"connection refused by db", "upstream timeout after 30s"}},
		{`latency_ms:<=3`, []string{"dial tcp: Connection refused"}},
		{`latency_ms:*`, []string{"refused connection, retrying", "slow response", "connection refused by db", "dial tcp: Connection refused", "upstream timeout after 30s", "payment accepted"}},
		{`-latency_ms:* -cache`, []string{"Timeout talking to ldap"}},
		{`status:[500 TO 503]`, []string{"Timeout talking to ldap", "connection refused by db", "dial tcp: Connection refused"}},
		{`status:{500 TO 503}`, []string{"dial tcp: Connection refused"}},
		{`status:[500 TO 503} level:error`, []string{"connection refused by db", "dial tcp: Connection refused"}},
		{`latency_ms:[a TO z]`, []string{"refused connection, retrying"}},
		{`level:(warn OR debug)`, []string{"cache miss", "slow response"}},
		{`LEVEL:ERROR`, nil},
		{`level:ERROR service:auth`, []string{"Timeout talking to ldap"}},
		{`refus*`, []string{"refused connection, retrying", "connection refused by db", "dial tcp: Connection refused"}},
		{`service:pay*`, []string{"refused connection, retrying", "connection refused by db", "upstream timeout after 30s", "payment accepted"}},
		{`host:"web-1" cache`, []string{"cache miss"}},
		{`_stream:checkout miss`, []string{"cache miss"}},
		{`timeout OR miss`, []string{"cache miss", "Timeout talking to ldap", "upstream timeout after 30s"}},
		{`NOT level:(info OR error OR warn)`, []string{"cache miss"}},
		{`status:""`, []string{"cache miss"}},
		{`"refused connection"`, []string{"refused connection, retrying"}},
		{`tcp refused`, []string{"dial tcp: Connection refused"}},
		{`timeout | limit 1`, []string{"Timeout talking to ldap"}},
		{`level:error | sort by latency_ms`, []string{"dial tcp: Connection refused", "connection refused by db", "upstream timeout after 30s", "Timeout talking to ldap"}},
		{`* | sort by _time | head 2`, []string{"payment accepted", "upstream timeout after 30s"}},
	}
	for _, tt := range tests {
		got := messages(t, testData(), tt.q, Options{})
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("%s:\n got %q\nwant %q", tt.q, got, tt.want)
		}
	}
}

func TestExecuteStats(t *testing.T) {
	tests := []struct {
		q    string
		want []string
	}{
		{`level:error | stats count() as n`, []string{`{"n":4}`}},
		{`level:fatal | stats count() as n, avg(latency_ms), sum(latency_ms), min(x), count_uniq(service)`,
			[]string{`{"n":0,"avg(latency_ms)":null,"sum(latency_ms)":0,"min(x)":null,"count_uniq(service)":0}`}},
		{`level:fatal | stats count() by level`, nil},
		{`* | stats count() as n by level`, []string{
			`{"level":"debug","n":1}`, `{"level":"error","n":4}`, `{"level":"info","n":2}`, `{"level":"warn","n":1}`}},
		{`* | stats count() as n by _time:1h`, []string{
			`{"_time":"2024-05-01T10:00:00Z","n":4}`, `{"_time":"2024-05-01T11:00:00Z","n":2}`, `{"_time":"2024-05-01T12:00:00Z","n":2}`}},
		{`level:error | stats count() as n by service | sort by n desc | limit 10`, []string{
			`{"service":"payments","n":2}`, `{"service":"auth","n":1}`, `{"service":"checkout","n":1}`}},
		{`* | stats count() as n by service, _time:1d`, []string{
			`{"service":"auth","_time":"2024-05-01T00:00:00Z","n":1}`,
			`{"service":"checkout","_time":"2024-05-01T00:00:00Z","n":3}`,
			`{"service":"payments","_time":"2024-05-01T00:00:00Z","n":4}`}},
		{`* | stats count() as n by (_time:30m, level) | limit 2`, []string{
			`{"_time":"2024-05-01T10:00:00Z","level":"error","n":2}`, `{"_time":"2024-05-01T10:00:00Z","level":"info","n":1}`}},
		{`* | stats count_uniq(service) as services, min(latency_ms), max(latency_ms), avg(status) by host`, []string{
			`{"host":"web-1","services":3,"min(latency_ms)":3,"max(latency_ms)":30000,"avg(status)":372.7142857142857}`}},
		{`* | stats sum(latency_ms) as total by status | sort by status desc`, []string{
			`{"status":"504","total":30000}`, `{"status":"503","total":0}`, `{"status":"502","total":3}`,
			`{"status":"500","total":1500}`, `{"status":"200","total":1119}`, `{"status":"","total":0}`}},
		{`service:auth | stats sum_len(_msg) as b, sum_len(missing) as m`, []string{`{"b":23,"m":0}`}},
		{`* | stats count() by missing_field`, []string{`{"missing_field":"","count()":8}`}},
		{`* | stats count() as n by level | stats count() as levels, sum(n) as total`, []string{`{"levels":4,"total":8}`}},
		{`* | stats count() as n by _time:1h | stats count() by _time:1d`, []string{`{"_time":"2024-05-01T00:00:00Z","count()":3}`}},
		{`* | limit 3 | stats count() as n`, []string{`{"n":3}`}},
		{`* | stats count() as n by level | limit 0`, nil},
	}
	for _, tt := range tests {
		got := run(t, testData(), tt.q, Options{})
		if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("%s:\n got %s\nwant %s", tt.q, strings.Join(got, "\n     "), strings.Join(tt.want, "\n     "))
		}
	}
}

func TestExecuteOptions(t *testing.T) {
	src := testData()
	src[1].Tenant = "other"
	tests := []struct {
		name string
		q    string
		opts Options
		want []string
	}{
		{"limit keeps the newest", `level:error`, Options{Limit: 2}, []string{"Timeout talking to ldap", "connection refused by db"}},
		{"tenant", `timeout`, Options{Tenant: "other"}, []string{"upstream timeout after 30s"}},
		{"from and to", `*`, Options{From: base + int64(10*time.Minute), To: base + int64(65*time.Minute)}, []string{"connection refused by db", "dial tcp: Connection refused"}},
	}
	for _, tt := range tests {
		got := messages(t, src, tt.q, tt.opts)
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestExecuteRecordJSON(t *testing.T) {
	got := run(t, testData(), `cache`, Options{})
	want := `{"_time":"2024-05-01T12:10:00Z","_stream":"{host=\"web-1\",service=\"checkout\"}","_msg":"cache miss","host":"web-1","service":"checkout","level":"debug"}`
	if len(got) != 1 || got[0] != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestExecuteMaxGroups(t *testing.T) {
	q, err := Parse(`* | stats count() by _time:1m`)
	if err != nil {
		t.Fatal(err)
	}
	err = Execute(context.Background(), testData(), q, Options{MaxGroups: 5}, func(Row) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "more than 5 groups (the MaxGroups limit)") || !strings.Contains(err.Error(), "narrow the query") {
		t.Errorf("err = %v, want the MaxGroups error", err)
	}
}

func TestExecuteErrors(t *testing.T) {
	boom := errors.New("boom")
	for _, s := range []string{`*`, `* | stats count() by level`, `* | sort by level`} {
		q, err := Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		err = Execute(context.Background(), testData(), q, Options{}, func(Row) error { return boom })
		if !errors.Is(err, boom) {
			t.Errorf("%s: emit's error came back as %v", s, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	q, _ := Parse(`*`)
	err := Execute(ctx, testData(), q, Options{}, func(Row) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context gave %v", err)
	}
}

func TestFieldNames(t *testing.T) {
	q, err := Parse(`level:error`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := FieldNames(context.Background(), testData(), q, Options{}, 2)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, f := range got {
		line := f.Name + "=" + itoa64(f.Count)
		for _, v := range f.Top {
			line += " " + v.Value + ":" + itoa64(v.Count)
		}
		lines = append(lines, line)
	}
	want := []string{
		`_msg=4 Timeout talking to ldap:1 connection refused by db:1`,
		`_stream=4 {host="web-1",service="payments"}:2 {host="web-1",service="auth"}:1`,
		`host=4 web-1:4`,
		`level=4 error:4`,
		`service=4 payments:2 auth:1`,
		`status=4 500:1 502:1`,
		`latency_ms=3 1500:1 3:1`,
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if _, err := FieldNames(context.Background(), testData(), q, Options{MaxGroups: 3}, 0); err == nil || !strings.Contains(err.Error(), "MaxGroups") {
		t.Errorf("MaxGroups not enforced: %v", err)
	}
}

func itoa64(n int64) string { return record.FormatFloat(float64(n)) }
