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

// sealTwoDays stores 100 records of service "partial" on each of two days,
// 3 days ago and an hour ago, sealed in one part each; it returns the
// older day's partition and its part files (one).
func sealTwoDays(t *testing.T, s *server, dataDir string) (string, []string) {
	t.Helper()
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
	return old, parts
}

// checkPartialQuery runs a query over both days of sealTwoDays: the CLI
// answers the intact day's 100 records, says on stderr that the answer is
// partial naming victim, and exits with status 3; --json passes the
// _partial line through.
func checkPartialQuery(t *testing.T, s *server, round, victim string) {
	t.Helper()
	stdout, stderr, code := s.runCLI("query", "service:partial", "--limit", "1000")
	if code != 3 || !strings.Contains(stderr, "partial answer") || !strings.Contains(stderr, victim) {
		t.Fatalf("%s: exit %d, stderr %q; want 3 naming %s", round, code, stderr, victim)
	}
	if n := strings.Count(stdout, "partial day 1 "); n != 100 || strings.Contains(stdout, "partial day 0 ") {
		t.Fatalf("%s: %d records of the intact day, and the damaged day's: %v", round, n, strings.Contains(stdout, "partial day 0 "))
	}
	stdout, _, code = s.runCLI("query", "service:partial | stats count() as n", "--json")
	if code != 3 || !strings.Contains(stdout, `{"n":100}`) || !strings.Contains(stdout, `{"_partial":{"reason":`) {
		t.Fatalf("%s: --json: exit %d, %s", round, code, stdout)
	}
}

// TestE2EPartialAnswerForgedPart alters a sealed part where every xxhash64
// a read checks still matches (the copy of the part's sha256 in its
// footer, which no read looks at: it stands for bytes rewritten with
// their checksums recomputed) and restarts the server with the scrubber
// off: the start hashes nothing, and the first query that reads the part
// checks its sha256 against the manifest's first, quarantines it and is
// answered as partial, as a read that meets damage is.
func TestE2EPartialAnswerForgedPart(t *testing.T) {
	needBinary(t)
	t.Parallel()
	dataDir := t.TempDir()
	cfg := "store:\n  flush_interval: 1h\n  merge_interval: 1h\n  scrub_bytes_per_second: 0\n"
	s := startServer(t, dataDir, cfg)
	old, parts := sealTwoDays(t, s, dataDir)
	s.stop()
	data, err := os.ReadFile(parts[0])
	if err != nil {
		t.Fatal(err)
	}
	// The footer: meta-index offset, length and xxhash64 (8 bytes each),
	// then the sha256 of the bytes before it, then the end magic.
	data[len(data)-64+24] ^= 0x01
	if err := os.WriteFile(parts[0], data, 0o644); err != nil {
		t.Fatal(err)
	}
	victim := old + "/" + strings.TrimSuffix(filepath.Base(parts[0]), ".part")

	s = startServer(t, dataDir, cfg)
	if st := s.storeStatus(); st.PartsScrubbed != 0 || st.PartsUnverified != st.Parts || st.Parts != 2 {
		t.Fatalf("after the restart: %d parts, %d hashed, %d unverified; want 2, none hashed", st.Parts, st.PartsScrubbed, st.PartsUnverified)
	}
	checkPartialQuery(t, s, "first query", victim)
	if st := s.storeStatus(); st.ScrubFailures != 1 || st.PartsUnverified != 0 || st.Parts != 1 {
		t.Fatalf("after the first query: %d parts, %d unverified, %d failed the check; want 1, 0, 1", st.Parts, st.PartsUnverified, st.ScrubFailures)
	}
	if out := s.cli("quarantine", "list"); !strings.Contains(out, victim) || !strings.Contains(out, "sha256") {
		t.Fatalf("quarantine list:\n%s", out)
	}
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
	old, parts := sealTwoDays(t, s, dataDir)
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
		checkPartialQuery(t, s, round, victim)
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
