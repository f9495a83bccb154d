package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestE2EPipeline runs the server with a pipeline file: records are
// parsed, routed to a tenant, redacted and dropped as it says before they
// are stored, and a change of the file applies without a restart, unless
// its own tests fail.
func TestE2EPipeline(t *testing.T) {
	needBinary(t)
	t.Parallel()
	pipeline := filepath.Join(t.TempDir(), "pipeline.yaml")
	write := func(setValue string, expectValue string) {
		t.Helper()
		// Written aside and renamed in, as a ConfigMap update is.
		tmp := pipeline + ".tmp"
		err := os.WriteFile(tmp, []byte(fmt.Sprintf(`
processors:
  - type: parse_json
  - type: drop
    if: level:debug
  - type: route
    routes: [{if: 'team:pay', tenant: payments}]
  - type: redact
    patterns: [card_number, email]
  - type: set
    fields: {version: %q}
tests:
  - input: '{"msg":"card 4111111111111111","level":"info"}'
    expect: {_msg: "card [REDACTED:card_number]", level: info, version: %q}
`, setValue, expectValue)), 0o644)
		if err == nil {
			err = os.Rename(tmp, pipeline)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	write("1", "1")
	s := startServer(t, t.TempDir(), fmt.Sprintf("pipeline:\n  file: %s\n  reload_interval: 100ms\n", pipeline))

	send := func(lines ...string) {
		t.Helper()
		var body strings.Builder
		for _, l := range lines {
			fmt.Fprintf(&body, "{\"log\":%q,\"service\":\"web\"}\n", l)
		}
		if code, resp, _ := s.post("/insert/jsonline", "application/x-ndjson", []byte(body.String())); code != 204 && code != 200 {
			t.Fatalf("insert: %d %s", code, resp)
		}
	}
	send(`{"level":"info","team":"pay","msg":"paid with 5555 5555 5555 4444 by ann@example.com"}`,
		`{"level":"debug","msg":"noise"}`,
		`{"level":"warn","msg":"slow"}`)
	if got := s.count("*"); got != 1 {
		t.Errorf("default tenant holds %d records, want 1 (the warning)", got)
	}
	rows := s.queryRows("*", "--tenant", "payments")
	if len(rows) != 1 || rows[0]["_msg"] != "paid with [REDACTED:card_number] by [REDACTED:email]" || rows[0]["version"] != "1" || rows[0]["service"] != "web" {
		t.Fatalf("payments tenant: %v", rows)
	}
	if !strings.Contains(forwardGetText(t, s.url+"/metrics"), `sluice_processor_dropped_records_total{step="drop"} 1`) {
		t.Error("the drop is not counted")
	}

	// A change whose own test fails is refused; the pipeline running stays.
	write("2", "1")
	waitMetric(t, s, "sluice_processor_config_loaded", 0)
	send(`{"level":"warn","msg":"after a bad change"}`)
	if rows := s.queryRows(`"after a bad change"`); len(rows) != 1 || rows[0]["version"] != "1" {
		t.Fatalf("after a refused change: %v", rows)
	}
	// A good change applies without a restart.
	write("3", "3")
	waitMetric(t, s, "sluice_processor_config_loaded", 1)
	send(`{"level":"warn","msg":"after a good change"}`)
	if rows := s.queryRows(`"after a good change"`); len(rows) != 1 || rows[0]["version"] != "3" {
		t.Fatalf("after a good change: %v", rows)
	}
	s.stop()
}

// waitMetric waits until an unlabelled metric has the value want.
func waitMetric(t *testing.T, s *server, name string, want float64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		v, ok := metricValue(t, s, name)
		if ok && v == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v (present %v), want %v", name, v, ok, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
