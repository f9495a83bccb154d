package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestE2EIdleMerge checks that a partition that stops receiving records has
// its parts merged into one, that merges_pending says so meanwhile, and
// that every record is still found, exactly once.
func TestE2EIdleMerge(t *testing.T) {
	needBinary(t)
	t.Parallel()
	// The flushes below and the read of the pending merge after them must
	// each come within idle_merge_after of the last flush: 3 s leaves room
	// for a loaded machine.
	s := startServer(t, t.TempDir(), "store:\n  idle_merge_after: 3s\n  merge_interval: 200ms\n")
	defer s.stop()
	day := time.Now().UTC().Truncate(24 * time.Hour).Add(-24 * time.Hour) // yesterday: one partition
	const parts, perPart = 4, 500
	for p := range parts {
		var b strings.Builder
		for i := range perPart {
			ts := day.Add(time.Duration(p*perPart+i) * time.Second).Format(time.RFC3339Nano)
			fmt.Fprintf(&b, `{"_time":%q,"_msg":"record %d","service":"svc%d","latency":"%d.%03d"}`+"\n", ts, p*perPart+i, i%3, i, p)
		}
		if code, ans, _ := s.post("/insert/jsonline", "application/x-ndjson", []byte(b.String())); code != 200 {
			t.Fatalf("ingest: %d %s", code, ans)
		}
		if code, ans, _ := s.post("/internal/force_flush", "application/json", nil); code != 200 {
			t.Fatalf("flush: %d %s", code, ans)
		}
	}
	if n := metric(t, s, "sluice_store_parts"); n < 2 {
		t.Fatalf("%v parts after %d flushes; the test needs several", n, parts)
	}
	if n := metric(t, s, "sluice_store_merges_pending"); n != 1 {
		t.Errorf("merges pending %v before the partition is idle, want 1", n)
	}
	deadline := time.Now().Add(20 * time.Second)
	for metric(t, s, "sluice_store_parts") != 1 || metric(t, s, "sluice_store_merges_pending") != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("still %v parts, %v merges pending, 20 s after the last flush",
				metric(t, s, "sluice_store_parts"), metric(t, s, "sluice_store_merges_pending"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n := s.count("*"); n != parts*perPart {
		t.Errorf("%d records after the merge, want %d", n, parts*perPart)
	}
	// The latencies are decimals of one scale: a decimal column, compared
	// as numbers, in the merged part.
	if n := s.count("latency:>=250"); n != parts*(perPart-250) {
		t.Errorf("%d records with latency >= 250, want %d", n, parts*(perPart-250))
	}
}
