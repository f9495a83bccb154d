package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestE2ERepairPart flips a bit in the first block of a part of six blocks
// under a server that signs its manifest: queries are partial and name the
// part; with the server stopped, `sluice repair` rewrites the part from its
// five readable blocks, saying what it kept and lost; `sluice verify
// --config` is clean (the salvage entry is signed); the restarted server
// answers the readable records completely, exit status 0, with nothing
// quarantined, and the damaged file kept aside.
func TestE2ERepairPart(t *testing.T) {
	needBinary(t)
	t.Parallel()
	dataDir := t.TempDir()
	keyPath := filepath.Join(t.TempDir(), "signing.key")
	if out, err := exec.Command(binPath, "trust", "keygen", "--out", keyPath).CombinedOutput(); err != nil {
		t.Fatalf("trust keygen: %v\n%s", err, out)
	}
	cfg := fmt.Sprintf("store:\n  flush_interval: 1h\n  merge_interval: 1h\n  block_records: 50\ntrust:\n  signing_key_file: %s\n", keyPath)
	cfgPath := filepath.Join(t.TempDir(), "sluice.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, dataDir, cfg)
	day := time.Now().UTC().Add(-72 * time.Hour)
	var body bytes.Buffer
	for i := range 300 {
		fmt.Fprintf(&body, `{"_time":%q,"_msg":"salvage line %d","service":"salvage"}`+"\n",
			day.Add(time.Duration(i)*time.Millisecond).Format(time.RFC3339Nano), i)
	}
	if code, resp, _ := s.post("/insert/jsonline", "application/x-ndjson", body.Bytes()); code != 200 {
		t.Fatalf("insert: %d %s", code, resp)
	}
	if code, resp, _ := s.post("/internal/force_flush", "", nil); code != 200 {
		t.Fatalf("force flush: %d %s", code, resp)
	}
	partition := day.Format("20060102")
	parts, _ := filepath.Glob(filepath.Join(dataDir, "store", "partitions", partition, "*.part"))
	if len(parts) != 1 {
		t.Fatalf("parts of %s: %v", partition, parts)
	}
	data, err := os.ReadFile(parts[0])
	if err != nil {
		t.Fatal(err)
	}
	data[9] ^= 0x40 // the first block's header, after the part's magic
	if err := os.WriteFile(parts[0], data, 0o644); err != nil {
		t.Fatal(err)
	}
	victim := partition + "/" + strings.TrimSuffix(filepath.Base(parts[0]), ".part")
	// The records themselves, which a count from the index would not read.
	if _, stderr, code := s.runCLI("query", "service:salvage", "--limit", "1000"); code != 3 || !strings.Contains(stderr, victim) {
		t.Fatalf("query over the damaged part: exit %d, stderr %q; want 3 naming %s", code, stderr, victim)
	}
	s.stop()

	out, err := exec.Command(binPath, "repair", "--config", cfgPath, "--data-dir", dataDir).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "part "+victim+": kept 250 records in 5 blocks") ||
		!strings.Contains(string(out), "lost 50 records in 1 block;") {
		t.Fatalf("repair: %v\n%s", err, out)
	}
	if out, err := exec.Command(binPath, "verify", "--config", cfgPath, "--data-dir", dataDir).CombinedOutput(); err != nil {
		t.Fatalf("verify --config after the repair: %v\n%s", err, out)
	}
	damaged := filepath.Join(dataDir, "store", "quarantine", strings.ReplaceAll(victim, "/", "-")+".part.damaged")
	if _, err := os.Stat(damaged); err != nil {
		t.Errorf("the damaged file is not kept: %v", err)
	}

	s = startServer(t, dataDir, cfg)
	stdout, stderr, code := s.runCLI("query", "service:salvage", "--limit", "1000")
	if n := strings.Count(stdout, "salvage line "); code != 0 || strings.Contains(stderr, "partial") || n != 250 || strings.Contains(stdout, "salvage line 49\n") || !strings.Contains(stdout, "salvage line 50\n") {
		t.Fatalf("query after the repair: exit %d, %s %s", code, stdout, stderr)
	}
	if out := s.cli("quarantine", "list"); !strings.Contains(out, "no quarantined parts") {
		t.Fatalf("quarantine list after the repair:\n%s", out)
	}
	// Nothing left to do.
	s.stop()
	if out, err := exec.Command(binPath, "repair", "--config", cfgPath, "--data-dir", dataDir).CombinedOutput(); err != nil ||
		!strings.Contains(string(out), "nothing to salvage") {
		t.Fatalf("a second repair: %v\n%s", err, out)
	}
}
