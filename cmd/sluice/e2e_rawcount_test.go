package main

import (
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/sluice-log/sluice/bench/gen"
)

// TestE2ERawCount runs sluice-bench's top_traces query (a count grouped
// by trace_id, a raw column of mostly distinct ids, over a _time window
// that cuts blocks, sorted and cut to the top five) through the real
// binary and checks its answer against the generator's ground truth, and
// that explain shows every matching record counted in bulk: the store
// counts the trace ids without building rows, including in the blocks the
// window cuts.
func TestE2ERawCount(t *testing.T) {
	needBinary(t)
	t.Parallel()
	// Parts must cut the window: a timed flush after each request (on a
	// loaded machine, where a request of 5,000 took longer than
	// store.flush_interval) made parts of whole requests, whose ends
	// fell on the window's edges (records 15,000 and 65,000 of 80,000)
	// and cut no block. So no timed flush, and requests of 7,000, which
	// end on neither edge.
	s := startServer(t, t.TempDir(), "store: {flush_interval: 1h}\n"+
		"forward: {enabled: false}\nsyslog: {enabled: false}\notlp: {enabled: false}\n")
	defer s.stop()

	// Over 50k records the generator narrows the query's window below
	// the day the records span, so that it cuts blocks.
	const records = 80000
	g, err := gen.New(gen.Config{Seed: 11, Records: records, End: time.Now().Truncate(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	const path = "/insert/jsonline?_time_field=_time&_msg_field=_msg&_stream_fields=service,host,container"
	var body []byte
	for g.Remaining() > 0 {
		body, _ = g.AppendBatch(body[:0], 7000)
		if code, ans, _ := s.post(path, "application/x-ndjson", body); code != 200 {
			t.Fatalf("ingest: %d %s", code, ans)
		}
	}
	if code, ans, _ := s.post("/internal/force_flush", "application/json", nil); code != 200 {
		t.Fatalf("flush: %d %s", code, ans)
	}

	var top gen.Query
	for _, q := range g.Queries() {
		if q.Name == "top_traces" {
			top = q
		}
	}
	if top.Sluice == "" {
		t.Fatal("the generator has no top_traces query")
	}
	if err := top.Want.Check(apiRows(t, s, top.Sluice)); err != nil {
		t.Fatalf("%s: %v", top.Sluice, err)
	}
	out := s.cli("query", top.Sluice, "--explain")
	m := regexp.MustCompile(`matched\s+(\d+) records \((\d+) counted in bulk\)`).FindStringSubmatch(out)
	if m == nil || m[1] == "0" || m[1] != m[2] {
		t.Errorf("explain of %s: want every matching record counted in bulk:\n%s", top.Sluice, out)
	}
	blocks := regexp.MustCompile(`read (\d+),`).FindStringSubmatch(out)
	whole := regexp.MustCompile(`per block\s+(\d+) wholly matching`).FindStringSubmatch(out)
	if blocks == nil || whole == nil || atoi(t, whole[1]) >= atoi(t, blocks[1]) {
		t.Errorf("explain of %s: want blocks that the window cuts among those read:\n%s", top.Sluice, out)
	}
	t.Logf("explain:\n%s", out)
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return n
}
