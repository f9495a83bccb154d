package query

import (
	"context"
	"io"
	"io/fs"
	"log/slog"
	"path/filepath"
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
		q, err := Parse(aq.Sluice)
		if err != nil {
			b.Fatalf("%s: %v", aq.Name, err)
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
			b.Fatalf("%s: got %.300s\nwant %.300s", aq.Name, got, want)
		}
		b.Run(aq.Name, func(b *testing.B) {
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
			b.ReportMetric(float64(stats.Blocks), "blocks/op")
			b.ReportMetric(float64(stats.RecordsScanned), "records_scanned/op")
			b.ReportMetric(float64(stats.BytesRead), "bytes_read/op")
			b.ReportMetric(float64(disk)/float64(len(recs)), "disk_bytes/record")
		})
	}
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
