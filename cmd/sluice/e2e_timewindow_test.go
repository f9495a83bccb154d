package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestE2EReplayOutOfWindow restarts a server whose write-ahead log holds
// records that its new, narrower window would refuse: the replay stores
// them anyway (they were acknowledged), the server serves, flushes and
// takes new records.
func TestE2EReplayOutOfWindow(t *testing.T) {
	needBinary(t)
	t.Parallel()
	dir := t.TempDir()
	// No window and no flush: everything stays in the log.
	s := startServer(t, dir, "ingest:\n  max_future: 0\nstore:\n  flush_interval: 1h\n")
	now := time.Now().UTC()
	var b strings.Builder
	for i, at := range []time.Time{now.Add(-5 * 365 * 24 * time.Hour), now.Add(30 * 24 * time.Hour), now.Add(-time.Minute)} {
		fmt.Fprintf(&b, `{"_time":%q,"_msg":"logged %d","service":"replay"}`+"\n", at.Format(time.RFC3339Nano), i)
	}
	if code, ans, _ := s.post("/insert/jsonline", "application/x-ndjson", []byte(b.String())); code != 200 || !strings.Contains(ans, `"accepted":3`) {
		t.Fatalf("ingest: %d %s", code, ans)
	}
	s.kill()

	s = startServer(t, dir, "store:\n  retention: 30d\n")
	defer s.stop()
	if !strings.Contains(s.logs.String(), "replayed write-ahead log") {
		t.Fatalf("no replay logged:\n%s", s.logs.String())
	}
	from := now.Add(-6 * 365 * 24 * time.Hour).Format(time.RFC3339)
	for _, msg := range []string{"logged 1", "logged 2"} {
		rows := s.queryRows(`"`+msg+`" | stats count() as n`, "--from", from, "--to", now.Add(40*24*time.Hour).Format(time.RFC3339))
		if len(rows) != 1 || rows[0]["n"] != float64(1) {
			t.Errorf("%q after the replay: %v, want a count of 1", msg, rows)
		}
	}
	if code, ans, _ := s.post("/internal/force_flush", "application/json", nil); code != 200 {
		t.Fatalf("flush after the replay: %d %s", code, ans)
	}
	code, ans, _ := s.post("/insert/jsonline", "application/x-ndjson", []byte(fmt.Sprintf(`{"_time":%q,"_msg":"refused now"}`+"\n", now.Add(30*24*time.Hour).Format(time.RFC3339Nano))))
	if code != 400 || !strings.Contains(ans, "time too far in the future") {
		t.Errorf("the new window: %d %s", code, ans)
	}
	if code, ans, _ := s.post("/insert/jsonline", "application/x-ndjson", []byte(`{"_msg":"new"}`+"\n")); code != 200 {
		t.Errorf("ingest after the replay: %d %s", code, ans)
	}
}
