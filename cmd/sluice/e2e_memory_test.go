package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestE2EMemoryBounds runs the binary with a small memory_limit and
// flush_bytes and a flush interval too long to matter: concurrent ingest of
// many times flush_bytes must be flushed by size, with the head bound and
// the soft limit visible in /metrics, the profiler served, and every record
// queryable once.
func TestE2EMemoryBounds(t *testing.T) {
	needBinary(t)
	t.Parallel()
	const (
		writers = 4
		batches = 8 // per writer
		size    = 2000
	)
	cfg := "memory_limit: 128MiB\nhttp:\n  pprof: true\nstore:\n  flush_bytes: 1MiB\n  flush_interval: 1h\n"
	s := startServer(t, t.TempDir(), cfg)
	var wg sync.WaitGroup
	errs := make(chan error, writers*batches)
	base := time.Now().Add(-time.Hour)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				var body bytes.Buffer
				for i := range size {
					ts := base.Add(time.Duration(w*batches*size+b*size+i) * time.Millisecond)
					fmt.Fprintf(&body, `{"_time":%q,"service":"svc%d","writer":"%d","batch":"%d","_msg":"memory bound test record %d with enough text to fill the head quickly: %s"}`+"\n",
						ts.Format(time.RFC3339Nano), i%7, w, b, i, strings.Repeat("x", 200))
				}
				resp, err := http.Post(s.url+"/insert/jsonline", "application/x-ndjson", &body)
				if err != nil {
					errs <- err
					return
				}
				msg, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode/100 != 2 {
					errs <- fmt.Errorf("writer %d batch %d: status %d: %s", w, b, resp.StatusCode, msg)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	if v, _ := metricValue(t, s, "sluice_store_head_max_bytes"); v != 2<<20 {
		t.Errorf("sluice_store_head_max_bytes = %v, want %d (twice flush_bytes)", v, 2<<20)
	}
	// What merges hold is exported beside the other bounds (a merge may be
	// running, so any value from 0 up).
	if v, ok := metricValue(t, s, "sluice_store_merge_buffer_bytes"); !ok || v < 0 {
		t.Errorf("sluice_store_merge_buffer_bytes = %v (found %v), want a gauge >= 0", v, ok)
	}
	// The runtime's soft limit follows the live heap below memory_limit
	// (gcgoal): never above it.
	if v, ok := metricValue(t, s, "go_gc_gomemlimit_bytes"); !ok || v <= 0 || v > 128<<20 {
		t.Errorf("go_gc_gomemlimit_bytes = %v, want above 0 and at most memory_limit %d", v, 128<<20)
	}
	if v, ok := metricValue(t, s, "sluice_memory_limit_bytes"); !ok || v != 128<<20 {
		t.Errorf("sluice_memory_limit_bytes = %v, want %d", v, 128<<20)
	}
	if !strings.Contains(s.logs.String(), "soft memory limit set") {
		t.Errorf("server did not log its memory limit:\n%s", s.logs.String())
	}
	// The interval is an hour, so only flush_bytes can have flushed.
	if v, _ := metricValue(t, s, "sluice_store_records"); v == 0 {
		t.Errorf("no flush by size: sluice_store_records = 0")
	}
	resp, err := http.Get(s.url + "/debug/pprof/heap")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /debug/pprof/heap with http.pprof on: status %d", resp.StatusCode)
	}
	if got, want := s.count("*"), writers*batches*size; got != want {
		t.Errorf("count = %d, want %d", got, want)
	}
	s.stop()
}
