package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/sluice-log/sluice/bench/gen"
)

// TestE2EQuerySpeedPaths runs every sluice-bench query through the real
// binary over generated records, most in parts and the rest in memory, and
// checks each answer against the generator's ground truth. The store's
// block-level shortcuts (a stream-label filter decided once per block,
// count() answered from the block index, histograms from the time column)
// take part in these answers; explain shows that a count over a stream
// label reads no block at all.
func TestE2EQuerySpeedPaths(t *testing.T) {
	needBinary(t)
	t.Parallel()
	s := startServer(t, t.TempDir(), "forward: {enabled: false}\nsyslog: {enabled: false}\notlp: {enabled: false}\n")
	defer s.stop()

	const records = 10000
	g, err := gen.New(gen.Config{Seed: 7, Records: records, End: time.Now().Truncate(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	const path = "/insert/jsonline?_time_field=_time&_msg_field=_msg&_stream_fields=service,host,container"
	var body []byte
	for sent := 0; g.Remaining() > 0; {
		var n int
		body, n = g.AppendBatch(body[:0], 1000)
		if code, ans, _ := s.post(path, "application/x-ndjson", body); code != 200 {
			t.Fatalf("ingest: %d %s", code, ans)
		}
		// Nine tenths go into parts; the rest stays in the head.
		if sent += n; sent == records*9/10 {
			if code, ans, _ := s.post("/internal/force_flush", "application/json", nil); code != 200 {
				t.Fatalf("flush: %d %s", code, ans)
			}
		}
	}

	for _, q := range g.Queries() {
		if err := q.Want.Check(apiRows(t, s, q.Sluice)); err != nil {
			t.Errorf("%s (%s): %v", q.Name, q.Sluice, err)
		}
	}

	out := s.cli("query", "service:payments | stats count() as n", "--explain")
	t.Logf("explain:\n%s", out)
	m := regexp.MustCompile(`by stream (\d+), read (\d+), counted unread (\d+)`).FindStringSubmatch(out)
	if m == nil || m[1] == "0" || m[2] != "0" || m[3] == "0" {
		t.Errorf("explain of a count over a stream label: want blocks skipped by stream, none read, some counted unread:\n%s", out)
	}

	// Application records always carry a trace id and the others never
	// do, so every block is decided by the presence of trace_id alone:
	// from its column directory's full flag, or from its index entry.
	out = s.cli("query", "NOT trace_id:* | stats count() as n", "--explain")
	m = regexp.MustCompile(`read (\d+), counted unread (\d+)`).FindStringSubmatch(out)
	if m == nil || m[1] != "0" || m[2] == "0" {
		t.Errorf("explain of a count of records without a trace id: want no block read, some counted unread:\n%s", out)
	}
}

// apiRows runs q through the HTTP API (the race-built CLI starts slowly)
// and returns its rows with every value as text.
func apiRows(t *testing.T, s *server, q string) []map[string]string {
	t.Helper()
	resp, err := http.Get(s.url + "/api/v1/query?" + url.Values{"query": {q}}.Encode())
	if err != nil {
		t.Fatalf("query %q: %v", q, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("query %q: %d %s", q, resp.StatusCode, b)
	}
	var rows []map[string]string
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	for {
		var m map[string]any
		if err := dec.Decode(&m); err == io.EOF {
			return rows
		} else if err != nil {
			t.Fatalf("query %q: bad NDJSON: %v", q, err)
		}
		row := make(map[string]string, len(m))
		for k, v := range m {
			row[k] = fmt.Sprint(v)
		}
		rows = append(rows, row)
	}
}
