package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestE2EQuery runs the query language's newer parts through the real
// binary: a pipe chain with extraction, a stream selector and time range,
// explain with the store's cost, and --context around a hit.
func TestE2EQuery(t *testing.T) {
	needBinary(t)
	t.Parallel()
	// Only the HTTP listener: other receivers' default ports may be taken.
	s := startServer(t, t.TempDir(), "forward: {enabled: false}\nsyslog: {enabled: false}\notlp: {enabled: false}\n")
	defer s.stop()

	// Two streams of 100 records each, a second apart, the message in
	// logfmt-like text with a status and a duration.
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	var body bytes.Buffer
	for i := range 100 {
		for _, host := range []string{"web-1", "web-2"} {
			status := 200
			if i%10 == 0 {
				status = 500
			}
			fmt.Fprintf(&body, `{"_time":%q,"_msg":"GET /item/%d status=%d took %dms","host":%q,"app":"shop"}`+"\n",
				base.Add(time.Duration(i)*time.Second).Format(time.RFC3339Nano), i, status, i, host)
		}
	}
	if code, ans, _ := s.post("/insert/jsonline?_stream_fields=host,app", "application/x-ndjson", body.Bytes()); code != 200 {
		t.Fatalf("ingest: %d %s", code, ans)
	}
	// Half of it in parts, half in memory, so that explain sees both.
	if code, ans, _ := s.post("/internal/force_flush", "application/json", nil); code != 200 {
		t.Fatalf("flush: %d %s", code, ans)
	}

	// A pipe chain with extraction: group by an extracted field, filter
	// the groups, shape the columns.
	rows := s.queryRows(`_stream:{host="web-1",app=~"sh.*"} _time:>now-2h | extract "status=<status> took <ms>ms" | stats count() as n, quantile(0.5, ms) as p50, max(ms) as worst by status | filter n:>50 | fields status, n, worst as slowest`)
	if len(rows) != 1 || rows[0]["status"] != "200" || rows[0]["n"] != 90.0 || rows[0]["slowest"] != 99.0 {
		t.Errorf("extract chain: %v", rows)
	}
	if rows := s.queryRows(`* | unpack_logfmt | top 1 by status`); len(rows) != 1 || rows[0]["status"] != "200" || rows[0]["count"] != 180.0 {
		t.Errorf("top after unpack_logfmt: %v", rows)
	}
	if n := s.count(`*item/1* host:=web-2`); n != 11 { // 1 and 10..19
		t.Errorf("wildcard and exact: %d records, want 11", n)
	}
	if n := s.count(`_msg:/status=5\d\d/ NOT missing:*`); n != 20 {
		t.Errorf("regex: %d records, want 20", n)
	}

	// Explain: the plan and what the store did.
	out := s.cli("query", `_stream:{host="web-2"} status 500 | stats count() as n`, "--explain")
	t.Logf("explain:\n%s", out)
	for _, want := range []string{"StreamSelector", "host tokens web 2", "stats count() as n", "partitions", "blocks", "bytes read", "matched     10 records", "rows: 1"} {
		if !strings.Contains(out, want) {
			t.Errorf("explain output lacks %q:\n%s", want, out)
		}
	}

	// Context: the hit and two records on each side in its own stream.
	out = s.cli("query", `"/item/50 " host:web-1`, "--context", "2")
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	var msgs []string
	for _, l := range lines {
		for _, want := range []string{"/item/48 ", "/item/49 ", "/item/50 ", "/item/51 ", "/item/52 "} {
			if strings.Contains(l, want) {
				msgs = append(msgs, l[:2]+want)
			}
		}
		if strings.Contains(l, "web-2") {
			t.Errorf("context crossed into another stream: %s", l)
		}
	}
	if got := strings.Join(msgs, "|"); got != "  /item/48 |  /item/49 |> /item/50 |  /item/51 |  /item/52 " {
		t.Errorf("context output:\n%s", out)
	}
}
