package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// storeStatus is what this test reads of /api/v1/status.
type storeStatus struct {
	Parts            int   `json:"parts"`
	Records          int64 `json:"records"`
	ManifestReplayed int   `json:"manifest_entries_replayed"`
	OpenFiles        int   `json:"open_files"`
	MaxOpenFiles     int   `json:"max_open_files"`
	PartsUnverified  int   `json:"parts_unverified"`
	PartsScrubbed    int64 `json:"parts_scrubbed"`
	ScrubFailures    int64 `json:"scrub_failures"`
	IndexCacheMax    int64 `json:"index_cache_max_bytes"`
	IndexBytes       int64 `json:"index_bytes"`
}

func (s *server) storeStatus() storeStatus {
	s.t.Helper()
	resp, err := http.Get(s.url + "/api/v1/status")
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct {
		Pipeline storeStatus `json:"pipeline"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		s.t.Fatal(err)
	}
	return st.Pipeline
}

var verifyHeadRe = regexp.MustCompile(`manifest head: (\d+:[0-9a-f]{64})`)

// TestE2EStartupTail restarts the real binary over a store of many flushes
// with a small manifest checkpoint interval: the restart replays only the
// manifest's tail, opens and hashes no part (the scrubber is off), serves
// every record, and keeps its files within store.max_open_files; a restart
// with the scrubber on then checks every part in the background; verify
// proves the whole history, including an anchor older than the last
// checkpoint.
func TestE2EStartupTail(t *testing.T) {
	needBinary(t)
	t.Parallel()
	const flushes, perFlush = 14, 5
	dataDir := t.TempDir()
	cfg := "store:\n  flush_interval: 1h\n  merge_interval: 1h\n  manifest_checkpoint_entries: 4\n  scrub_bytes_per_second: 0\n  max_open_files: 3\n"
	s := startServer(t, dataDir, cfg)
	base := time.Now().Add(-72 * time.Hour).UTC()
	var anchor string
	for i := range flushes {
		var body []byte
		for j := range perFlush {
			// Three days, so that parts spread over partitions.
			ts := base.Add(time.Duration(i%3)*24*time.Hour + time.Duration(i*perFlush+j)*time.Second)
			body = fmt.Appendf(body, `{"_time":%q,"service":"svc%d","_msg":"startup test record %d"}`+"\n", ts.Format(time.RFC3339Nano), j%2, i*perFlush+j)
		}
		if code, resp, _ := s.post("/insert/jsonline", "application/x-ndjson", body); code/100 != 2 {
			t.Fatalf("insert %d: %d %s", i, code, resp)
		}
		if code, resp, _ := s.post("/internal/force_flush", "", nil); code/100 != 2 {
			t.Fatalf("force flush %d: %d %s", i, code, resp)
		}
		if i == 1 {
			out, err := sluiceVerify(t, dataDir)
			m := verifyHeadRe.FindStringSubmatch(out)
			if err != nil || m == nil {
				t.Fatalf("verify while serving: %v\n%s", err, out)
			}
			anchor = m[1]
		}
	}
	s.stop()
	if segs, _ := filepath.Glob(filepath.Join(dataDir, "store", "manifest.archive", "*.log")); len(segs) < 2 {
		t.Fatalf("%d archived manifest segments after %d flushes", len(segs), flushes)
	}

	s = startServer(t, dataDir, cfg)
	st := s.storeStatus()
	if st.ManifestReplayed == 0 || st.ManifestReplayed > 5 {
		t.Errorf("the restart replayed %d manifest entries, want at most the checkpoint and 4", st.ManifestReplayed)
	}
	if st.Parts < 3 || st.PartsUnverified != st.Parts || st.PartsScrubbed != 0 || st.OpenFiles != 0 {
		t.Errorf("after the restart: %d parts, %d unverified, %d hashed, %d files open; want none hashed nor open", st.Parts, st.PartsUnverified, st.PartsScrubbed, st.OpenFiles)
	}
	if n := s.count("*"); n != flushes*perFlush {
		t.Fatalf("%d records after the restart, want %d", n, flushes*perFlush)
	}
	if st := s.storeStatus(); st.OpenFiles == 0 || st.OpenFiles > st.MaxOpenFiles || st.MaxOpenFiles != 3 {
		t.Errorf("after a search: %d files open, bound %d (want 3)", st.OpenFiles, st.MaxOpenFiles)
	}
	s.stop()

	// The scrubber, at its default rate, checks every part soon.
	s = startServer(t, dataDir, "store:\n  flush_interval: 1h\n  merge_interval: 1h\n")
	deadline := time.Now().Add(30 * time.Second)
	for st = s.storeStatus(); st.PartsUnverified > 0 && time.Now().Before(deadline); st = s.storeStatus() {
		time.Sleep(50 * time.Millisecond)
	}
	if st.PartsUnverified != 0 || st.PartsScrubbed != int64(st.Parts) || st.ScrubFailures != 0 {
		t.Errorf("scrubber: %d parts, %d unverified, %d checked, %d failed", st.Parts, st.PartsUnverified, st.PartsScrubbed, st.ScrubFailures)
	}
	s.stop()
	out, err := sluiceVerify(t, dataDir, "--anchor", anchor)
	if err != nil {
		t.Fatalf("verify with an anchor older than the checkpoints: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "store", "manifest.log")); err != nil {
		t.Fatal(err)
	}
}
