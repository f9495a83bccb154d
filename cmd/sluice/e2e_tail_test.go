package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestE2ETailSlowReader opens a live tail that never reads while 24 MiB
// of records are ingested: ingest is not slowed (every request stored),
// the tail is dropped once it is query.tail_buffer_bytes behind and its
// query slot freed at once (a new tail takes the only tail slot), and when
// it reads after all its stream ends with the line that says why.
func TestE2ETailSlowReader(t *testing.T) {
	needBinary(t)
	t.Parallel()
	s := startServer(t, t.TempDir(), "query:\n  max_concurrent: 2\n  tail_buffer_bytes: 1MiB\n")
	stalled, err := http.Get(s.url + "/api/v1/tail?query=service:tail")
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Body.Close()
	if stalled.StatusCode != http.StatusOK {
		t.Fatalf("tail: %d", stalled.StatusCode)
	}
	if code, body, _ := s.post("/api/v1/tail?query=*", "", nil); code != http.StatusTooManyRequests || !strings.Contains(body, "too many live tails") {
		t.Fatalf("a second tail while the first holds the tail slot: %d %s", code, body)
	}
	msg := strings.Repeat("tail ", 16<<10/5)
	for i := range 24 {
		var body bytes.Buffer
		for j := range 64 {
			fmt.Fprintf(&body, `{"service":"tail","_msg":"%d-%d %s"}`+"\n", i, j, msg)
		}
		if code, resp, _ := s.post("/insert/jsonline", "application/x-ndjson", body.Bytes()); code != http.StatusOK {
			t.Fatalf("ingest %d while a tail client stalls: %d %s", i, code, resp)
		}
	}
	if n := metric(t, s, "sluice_tail_dropped_total"); n != 1 {
		t.Fatalf("sluice_tail_dropped_total = %v after the stall", n)
	}
	if n := metric(t, s, "sluice_tail_running"); n != 0 {
		t.Fatalf("sluice_tail_running = %v: the dropped tail's slot is still held", n)
	}
	next, err := http.Get(s.url + "/api/v1/tail?query=*")
	if err != nil {
		t.Fatal(err)
	}
	next.Body.Close()
	if next.StatusCode != http.StatusOK {
		t.Fatalf("a new tail after the drop: %d", next.StatusCode)
	}
	sc := bufio.NewScanner(stalled.Body)
	sc.Buffer(nil, 1<<20)
	var last string
	lines := 0
	for sc.Scan() {
		last = sc.Text()
		lines++
	}
	if !strings.HasPrefix(last, `{"_dropped":true,"_msg":"live tail ended: this client read more slowly than records arrived`) {
		t.Fatalf("after %d lines the stalled tail's last line is %.200q (%v)", lines, last, sc.Err())
	}
	if got := s.count("service:tail"); got != 24*64 {
		t.Fatalf("stored %d records, want %d", got, 24*64)
	}
}
