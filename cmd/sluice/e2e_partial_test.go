package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runCLI runs a client command of the binary against s and returns its
// stdout, stderr and exit status.
func (s *server) runCLI(args ...string) (string, string, int) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, append(args, "--server", s.url)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return stdout.String(), stderr.String(), 0
	case errors.As(err, &ee):
		return stdout.String(), stderr.String(), ee.ExitCode()
	}
	s.t.Fatalf("sluice %s: %v", strings.Join(args, " "), err)
	return "", "", 0
}

// TestE2EPartialAnswer damages a sealed part under the running server: the
// query that meets it answers the other parts' records and says what it
// skipped (the CLI on stderr with exit status 3), and so does every later
// query whose time range covers the quarantined part, while one that does
// not cover it is complete. `sluice quarantine` lists the part, refuses to
// restore the damaged file, restores a good copy, and drops it for good.
func TestE2EPartialAnswer(t *testing.T) {
	needBinary(t)
	t.Parallel()
	dataDir := t.TempDir()
	s := startServer(t, dataDir, "store:\n  flush_interval: 1h\n  merge_interval: 1h\n")
	// Two days, one part each: the damaged one and one that is not.
	days := []time.Time{time.Now().UTC().Add(-72 * time.Hour), time.Now().UTC().Add(-time.Hour)}
	for d, day := range days {
		var body bytes.Buffer
		for i := range 100 {
			fmt.Fprintf(&body, `{"_time":%q,"_msg":"partial day %d line %d","service":"partial"}`+"\n",
				day.Add(time.Duration(i)*time.Millisecond).Format(time.RFC3339Nano), d, i)
		}
		if code, resp, _ := s.post("/insert/jsonline", "application/x-ndjson", body.Bytes()); code != 200 {
			t.Fatalf("insert: %d %s", code, resp)
		}
	}
	if code, resp, _ := s.post("/internal/force_flush", "", nil); code != 200 {
		t.Fatalf("force flush: %d %s", code, resp)
	}
	old := days[0].Format("20060102")
	parts, _ := filepath.Glob(filepath.Join(dataDir, "store", "partitions", old, "*.part"))
	if len(parts) != 1 {
		t.Fatalf("parts of %s: %v", old, parts)
	}
	good, err := os.ReadFile(parts[0])
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Clone(good)
	data[9] ^= 0x40 // inside the first block, after the part's magic
	if err := os.WriteFile(parts[0], data, 0o644); err != nil {
		t.Fatal(err)
	}
	victim := old + "/" + strings.TrimSuffix(filepath.Base(parts[0]), ".part")

	for _, round := range []string{"meets the damage", "after the quarantine"} {
		stdout, stderr, code := s.runCLI("query", "service:partial", "--limit", "1000")
		if code != 3 || !strings.Contains(stderr, "partial answer") || !strings.Contains(stderr, victim) {
			t.Fatalf("%s: exit %d, stderr %q; want 3 naming %s", round, code, stderr, victim)
		}
		if n := strings.Count(stdout, "partial day 1 "); n != 100 || strings.Contains(stdout, "partial day 0 ") {
			t.Fatalf("%s: %d records of the intact day, and the damaged day's: %v", round, n, strings.Contains(stdout, "partial day 0 "))
		}
		// --json passes the _partial line through.
		stdout, _, code = s.runCLI("query", "service:partial | stats count() as n", "--json")
		if code != 3 || !strings.Contains(stdout, `{"n":100}`) || !strings.Contains(stdout, `{"_partial":{"reason":`) {
			t.Fatalf("%s: --json: exit %d, %s", round, code, stdout)
		}
	}
	// A range that does not reach the damaged day is complete.
	if _, stderr, code := s.runCLI("query", "service:partial", "--since", "24h"); code != 0 || strings.Contains(stderr, "partial") {
		t.Fatalf("query of the intact day: exit %d, stderr %q", code, stderr)
	}
	if n := metric(t, s, "sluice_store_quarantined_parts"); n != 1 {
		t.Fatalf("sluice_store_quarantined_parts = %v", n)
	}

	// The operator's side.
	if out := s.cli("quarantine", "list"); !strings.Contains(out, victim) || !strings.Contains(out, "checksum") {
		t.Fatalf("quarantine list:\n%s", out)
	}
	if _, stderr, code := s.runCLI("quarantine", "restore", victim); code != 1 || !strings.Contains(stderr, "does not match the manifest") {
		t.Fatalf("restore of the damaged file: exit %d, %s", code, stderr)
	}
	qfile := filepath.Join(dataDir, "store", "quarantine", strings.ReplaceAll(victim, "/", "-")+".part")
	if err := os.WriteFile(qfile, good, 0o644); err != nil {
		t.Fatal(err)
	}
	s.cli("quarantine", "restore", victim)
	stdout, stderr, code := s.runCLI("query", "service:partial | stats count() as n")
	if code != 0 || strings.Contains(stderr, "partial") || !strings.Contains(stdout, "200") {
		t.Fatalf("query after the restore: exit %d, %s %s", code, stdout, stderr)
	}
	// Damaged again, then given up: the answers are complete without it.
	if err := os.WriteFile(parts[0], data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, code := s.runCLI("query", "service:partial"); code != 3 {
		t.Fatalf("query over the part damaged again: exit %d", code)
	}
	s.cli("quarantine", "drop", victim)
	stdout, stderr, code = s.runCLI("query", "service:partial | stats count() as n")
	if code != 0 || strings.Contains(stderr, "partial") || !strings.Contains(stdout, "100") {
		t.Fatalf("query after the drop: exit %d, %s %s", code, stdout, stderr)
	}
	if out := s.cli("quarantine", "list"); !strings.Contains(out, "no quarantined parts") {
		t.Fatalf("quarantine list after the drop:\n%s", out)
	}
}
