package query

import (
	"context"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-log/sluice/bench/altgen"
	"github.com/sluice-log/sluice/internal/store"
)

// altRecords is how many records of bench/altgen BenchmarkAltQueries
// stores: a day of 400 apps, most of them sparse streams.
const altRecords = 200_000

// BenchmarkAltQueries runs issue 13's second data set's questions
// (bench/altgen: other field names, mixed-case words, many sparse streams,
// whole-second times) over a store of ten flushed parts merged into one,
// the layout of a partition some time after its day. Every answer is
// checked against the in-memory reference searcher first. Besides ns/op it
// reports the blocks and records each query reads, which do not depend on
// the machine.
func BenchmarkAltQueries(b *testing.B) {
	end := time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC)
	recs := altgen.Records(1, altRecords, end)
	dir := b.TempDir()
	// Merge ends with the partition's final merge (idle at once), so that
	// the layout is one part whatever the parts' sizes: tier merges alone
	// leave ten parts unmerged when their sizes straddle a tier boundary.
	st, err := store.Open(dir, store.Options{IdleMergeAfter: time.Nanosecond}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	ctx := context.Background()
	for i := range 10 {
		part := recs[i*len(recs)/10 : (i+1)*len(recs)/10]
		st.Append(part, uint64((i+1)*len(recs)/10))
		if err := st.Flush(ctx); err != nil {
			b.Fatal(err)
		}
	}
	if err := st.Merge(ctx); err != nil {
		b.Fatal(err)
	}
	disk := dirBytes(b, dir)
	ref := sliceSearcher(recs)
	for _, aq := range altgen.Queries(end.Add(-10 * time.Hour)) {
		benchAltQuery(b, st, ref, aq.Name, aq.Sluice, func(b *testing.B, stats *store.SearchStats) {
			b.ReportMetric(float64(stats.Blocks), "blocks/op")
			b.ReportMetric(float64(disk)/float64(len(recs)), "disk_bytes/record")
		})
	}
}

// benchAltQuery checks query's answer from st against ref's, then runs
// it as sub-benchmark name, reporting the process's CPU time per query
// and the blocks, records and bytes the checked run read, and what
// report adds.
func benchAltQuery(b *testing.B, st, ref store.Searcher, name, query string, report func(*testing.B, *store.SearchStats)) {
	q, err := Parse(query)
	if err != nil {
		b.Fatalf("%s: %v", name, err)
	}
	want, err := runJSON(ref, q, 1000)
	if err != nil {
		b.Fatal(err)
	}
	var stats store.SearchStats
	got, err := runJSONStats(st, q, 1000, &stats)
	if err != nil {
		b.Fatal(err)
	}
	if got != want {
		b.Fatalf("%s: got %.300s\nwant %.300s", name, got, want)
	}
	b.Run(name, func(b *testing.B) {
		cpu0 := processCPU(b)
		for b.Loop() {
			if _, err := runJSON(st, q, 1000); err != nil {
				b.Fatal(err)
			}
		}
		// The process's CPU time per query: on a shared machine it
		// varies less than the wall time, which waits for the cores.
		b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
		b.ReportMetric(float64(stats.BlocksRead), "blocks_read/op")
		b.ReportMetric(float64(stats.RecordsScanned), "records_scanned/op")
		b.ReportMetric(float64(stats.BytesRead), "bytes_read/op")
		if report != nil {
			report(b, &stats)
		}
	})
}

// dirBytes is the size of the files under dir.
func dirBytes(b *testing.B, dir string) int64 {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err == nil {
			n += info.Size()
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// processCPU is the CPU time the process has used, user and system.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkAltLastHour asks bench/altgen's level questions over hours
// that are and are not aligned to the time index's spans, on a day of
// altRecords records (SLUICE_ALT_RECORDS, e.g. 5000000 for the layout
// sluice-bench -dataset alt measures) flushed in 40 parts and merged into
// one. With SLUICE_ALT_DIR the store is kept there and reused by later
// runs of the same size, so that runs before and after a change read the
// same layout. Every answer is checked against the in-memory reference
// searcher first.
func BenchmarkAltLastHour(b *testing.B) {
	n := altRecords
	if s := os.Getenv("SLUICE_ALT_RECORDS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			b.Fatal(err)
		}
		n = v
	}
	end := time.Date(2026, 12, 2, 20, 30, 0, 0, time.UTC)
	recs := altgen.Records(1, n, end)
	dir := os.Getenv("SLUICE_ALT_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	dir = filepath.Join(dir, strconv.Itoa(n))
	_, err := os.Stat(dir)
	fresh := os.IsNotExist(err)
	st, err := store.Open(dir, store.Options{IdleMergeAfter: time.Nanosecond}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	ctx := context.Background()
	if fresh {
		const flushes = 40
		for i := range flushes {
			part := recs[i*len(recs)/flushes : (i+1)*len(recs)/flushes]
			st.Append(part, uint64((i+1)*len(recs)/flushes))
			if err := st.Flush(ctx); err != nil {
				b.Fatal(err)
			}
		}
		if err := st.Merge(ctx); err != nil {
			b.Fatal(err)
		}
	}
	ref := sliceSearcher(recs)
	h := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	hour := func(from time.Time) string {
		return "_time:[" + h(from) + " TO " + h(from.Add(time.Hour)) + "}"
	}
	last, odd, aligned := end.Add(-time.Hour), end.Add(-time.Hour+17*time.Second), end.Add(-90*time.Minute)
	queries := []struct{ name, q string }{
		{"level_last_hour", hour(last) + " severity:ERROR | stats count() as n"},
		{"level_odd_hour", hour(odd) + " severity:ERROR | stats count() as n"},
		{"level_aligned_hour", hour(aligned) + " severity:ERROR | stats count() as n"},
		{"count_odd_hour", hour(odd) + " | stats count() as n"},
		{"by_level_last_hour", hour(last) + " | stats count() as n by severity"},
		{"level_day", "severity:ERROR | stats count() as n"},
	}
	for _, aq := range queries {
		benchAltQuery(b, st, ref, aq.name, aq.q, nil)
	}
}
