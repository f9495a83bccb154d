package main

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// openFDs counts the file descriptors the process pid holds.
func openFDs(t *testing.T, pid int) int {
	t.Helper()
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Skipf("cannot count file descriptors: %v", err)
	}
	return len(fds)
}

// peakFDs samples pid's file descriptors while f runs and returns the most.
func peakFDs(t *testing.T, pid int, f func()) int {
	t.Helper()
	var peak atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			if fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid)); err == nil && int64(len(fds)) > peak.Load() {
				peak.Store(int64(len(fds)))
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	f()
	close(stop)
	wg.Wait()
	return int(peak.Load())
}

// TestE2EManyDays is issue 13's request of 3,000 records over 3,000 days
// (a backfill within retention), with one record too far in the future
// and one older than the retention: those two are refused with their
// reasons and counted, the 3,000 are stored in 3,000 daily partitions by
// one flush, and neither that flush nor a query over every day holds more
// files open than store.max_open_files and the flush's writers allow
// (before the file cache, each part kept its file open: 3,000 files);
// every record is counted.
func TestE2EManyDays(t *testing.T) {
	needBinary(t)
	t.Parallel()
	const days, maxOpen = 3000, 16
	s := startServer(t, t.TempDir(), fmt.Sprintf("store:\n  retention: %dd\n  flush_interval: 1h\n  merge_interval: 1h\n  max_open_files: %d\n", days+100, maxOpen))
	defer s.stop()
	now := time.Now().UTC()
	var b strings.Builder
	for d := range days {
		fmt.Fprintf(&b, `{"_time":%q,"_msg":"backfill day %d","service":"backfill"}`+"\n", now.Add(-time.Duration(d)*24*time.Hour).Format(time.RFC3339Nano), d)
	}
	fmt.Fprintf(&b, `{"_time":%q,"_msg":"from the future","service":"backfill"}`+"\n", now.Add(30*24*time.Hour).Format(time.RFC3339Nano))
	fmt.Fprintf(&b, `{"_time":%q,"_msg":"too old","service":"backfill"}`+"\n", now.Add(-(days+200)*24*time.Hour).Format(time.RFC3339Nano))
	code, ans, _ := s.post("/insert/jsonline", "application/x-ndjson", []byte(b.String()))
	if code != 200 || !strings.Contains(ans, fmt.Sprintf(`"accepted":%d,"rejected":2`, days)) ||
		!strings.Contains(ans, "time too far in the future") || !strings.Contains(ans, fmt.Sprintf(`"line":%d`, days+1)) ||
		!strings.Contains(ans, "time older than the retention") || !strings.Contains(ans, fmt.Sprintf(`"line":%d`, days+2)) {
		t.Fatalf("ingest: %d %.2000s", code, ans)
	}
	for _, reason := range []string{"too_far_in_future", "too_old"} {
		if got := metric(t, s, `sluice_ingest_rejected_records_total{protocol="jsonline",reason="`+reason+`"}`); got != 1 {
			t.Errorf("rejected records for %s: %v, want 1", reason, got)
		}
	}

	pid := s.cmd.Process.Pid
	base := openFDs(t, pid)
	// The flush writes at most GOMAXPROCS parts at once and fsyncs at
	// most 16 sealed files at once; the rest is slack for connections.
	const slack = 48
	peak := peakFDs(t, pid, func() {
		if code, resp, _ := s.post("/internal/force_flush", "", nil); code != 200 {
			t.Fatalf("force flush: %d %s", code, resp)
		}
	})
	if st := s.storeStatus(); st.Parts != days || st.Records != days {
		t.Fatalf("after the flush: %d parts of %d records, want %d of %d", st.Parts, st.Records, days, days)
	}
	t.Logf("file descriptors: %d before the flush, at most %d during it", base, peak)
	if peak > base+slack {
		t.Errorf("the flush of %d days held %d file descriptors, %d before it", days, peak, base)
	}

	var rows []map[string]any
	from, to := now.Add(-(days+1)*24*time.Hour).Format(time.RFC3339), now.Add(time.Hour).Format(time.RFC3339)
	peak = peakFDs(t, pid, func() {
		rows = s.queryRows(`"backfill day" | stats count() as n, count_uniq(_msg) as u`, "--from", from, "--to", to)
	})
	if len(rows) != 1 || rows[0]["n"] != float64(days) || rows[0]["u"] != float64(days) {
		t.Errorf("count over %d days: %v", days, rows)
	}
	t.Logf("file descriptors: at most %d during a query over every day", peak)
	if peak > base+maxOpen+slack {
		t.Errorf("a query over %d parts held %d file descriptors, %d before the flush, bound %d", days, peak, base, maxOpen)
	}
	if st := s.storeStatus(); st.OpenFiles > maxOpen || st.MaxOpenFiles != maxOpen || st.OpenFiles == 0 {
		t.Errorf("after the query: %d part files open, bound %d (want %d)", st.OpenFiles, st.MaxOpenFiles, maxOpen)
	}
}
