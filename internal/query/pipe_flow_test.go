package query

import (
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/record"
)

func flowRecords() sliceSearcher {
	base := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC).UnixNano()
	rec := func(sec int, event, id string) record.Record {
		return record.Record{Time: base + int64(sec)*1e9, Message: event,
			Fields: []record.Field{{Name: "event", Value: event}, {Name: "order_id", Value: id}}}
	}
	return sliceSearcher{
		rec(0, "order_created", "a"), rec(30, "order_paid", "a"), // completed in 30s
		rec(10, "order_created", "b"), rec(70, "order_paid", "b"), // completed in 60s
		rec(20, "order_created", "c"),                               // missing: range ends at 3000s
		rec(40, "order_created", "d"), rec(1000, "order_paid", "d"), // late
		rec(50, "order_paid", "e"),      // end only
		rec(2990, "order_created", "f"), // open at the range's end
		rec(60, "order_created", ""),    // no key: ignored
		rec(65, "noise", "c"),
	}
}

func TestFlowPipe(t *testing.T) {
	base := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	opts := Options{Now: base.Add(3000 * time.Second)}
	for _, q := range []string{
		`event:(order_created OR order_paid) | flow start=event:order_created end=event:order_paid key=order_id within=10m`,
		`* | flow within=10m key=order_id end=(event:order_paid) start="event:order_created"`,
	} {
		got := strings.Join(run(t, flowRecords(), q, opts), "\n")
		want := strings.Join([]string{
			`{"order_id":"c","status":"missing","start":"2024-05-01T10:00:20Z"}`,
			`{"order_id":"d","status":"late","start":"2024-05-01T10:00:40Z","end":"2024-05-01T10:16:40Z","latency_s":960}`,
			`{"order_id":"e","status":"end_only","end":"2024-05-01T10:00:50Z"}`,
			`{"order_id":"f","status":"open","start":"2024-05-01T10:49:50Z"}`,
			`{"status":"completed","completed":2,"missing":1,"late":1,"open":1,"end_only":1,"latency_p50_s":30,"latency_p90_s":60,"latency_p99_s":60,"latency_max_s":60}`,
		}, "\n")
		// end_only rows have no start and sort first.
		want = strings.Replace(want, `{"order_id":"c"`, `{"order_id":"e","status":"end_only","end":"2024-05-01T10:00:50Z"}`+"\n"+`{"order_id":"c"`, 1)
		want = strings.Replace(want, "\n"+`{"order_id":"e","status":"end_only","end":"2024-05-01T10:00:50Z"}`+"\n"+`{"order_id":"f"`, "\n"+`{"order_id":"f"`, 1)
		if got != want {
			t.Errorf("%s:\n got %s\nwant %s", q, got, want)
		}
	}
}

func TestFlowPipeParse(t *testing.T) {
	for _, tt := range []struct{ q, err string }{
		{`* | flow start=a end=b key=k`, "flow needs within="},
		{`* | flow start=a end=b key=k within=10x`, "want a duration"},
		{`* | flow start= end=b key=k within=1m`, "start= needs a filter"},
		{`* | flow start=a start=b end=b key=k within=1m`, "given twice"},
		{`* | flow begin=a`, "start=, end=, key= or within="},
		{`* | flow start=a end=b key=k within=1m | limit 1`, ""},
	} {
		_, err := Parse(tt.q)
		if (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("Parse(%q) = %v, want error containing %q", tt.q, err, tt.err)
		}
	}
	q, err := Parse(`* | flow start=event:order_created end=event:(paid OR done) key=order_id within=10m`)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(q.String())
	if err != nil || again.String() != q.String() {
		t.Fatalf("round trip: %q → %v %v", q.String(), again, err)
	}
}
