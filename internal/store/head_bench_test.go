package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/record"
)

// BenchmarkHeadMemory measures what the head retains per record: the Go heap
// after a GC, against the bytes HeadBytes reports (which the pipeline's
// flush threshold is compared with).
func BenchmarkHeadMemory(b *testing.B) {
	const batches, batch = 200, 1000
	rng := rand.New(rand.NewPCG(1, 1))
	for b.Loop() {
		s := openTest(b, b.TempDir(), Options{})
		var before runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for i := range batches {
			s.Append(genRecords(rng, batch, i*batch), uint64(i+1))
		}
		var after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&after)
		n := float64(batches * batch)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "heap-B/record")
		b.ReportMetric(float64(s.HeadBytes())/n, "head-B/record")
		runtime.KeepAlive(s)
		_ = s.Close()
	}
}

// BenchmarkBatchSharedField takes the bench data set through the store
// as the JSON lines receiver makes it (shared=false) and with one more
// field that every record of a batch has, at position 0, as a `_bulk`
// request's _index (shared=true): appended in batches of 5,000, flushed
// every 50,000 records, the parts merged into one. It reports the
// process's CPU per record of the appends and flushes and of the merge,
// and bytes on disk per record: what a batch's shared field costs the
// store, which should be next to nothing.
func BenchmarkBatchSharedField(b *testing.B) {
	recs, err := benchGenRecords()
	if err != nil {
		b.Fatal(err)
	}
	const batch, perFlush = 5000, 50000
	for _, shared := range []bool{false, true} {
		// Both copy the records, so that both keep as much live heap
		// for the garbage collector to mark.
		in := make([]record.Record, len(recs))
		for i, r := range recs {
			fs := make([]record.Field, 0, len(r.Fields)+1)
			if shared {
				fs = append(fs, record.Field{Name: "_index", Value: "bench"})
			}
			r.Fields = append(fs, r.Fields...)
			in[i] = r
		}
		b.Run(fmt.Sprintf("shared=%v", shared), func(b *testing.B) {
			var flushCPU, mergeCPU time.Duration
			var st Stats
			ctx := context.Background()
			for b.Loop() {
				b.StopTimer()
				s := openTest(b, b.TempDir(), Options{IdleMergeAfter: -1})
				t0 := processCPU()
				b.StartTimer()
				for i := 0; i < len(in); i += batch {
					s.Append(in[i:min(i+batch, len(in))], uint64(i+1))
					if (i+batch)%perFlush == 0 || i+batch >= len(in) {
						if err := s.Flush(ctx); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.StopTimer()
				flushCPU += processCPU() - t0
				parts := livePartsByName(s)
				t0 = processCPU()
				b.StartTimer()
				if err := s.mergeParts(ctx, parts, s.menc); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				mergeCPU += processCPU() - t0
				st = s.Stats()
				s.Close()
				b.StartTimer()
			}
			n := float64(b.N * len(in))
			b.ReportMetric(float64(flushCPU.Nanoseconds())/n, "flush-cpu-ns/record")
			b.ReportMetric(float64(mergeCPU.Nanoseconds())/n, "merge-cpu-ns/record")
			b.ReportMetric(float64(st.DiskBytes)/float64(len(in)), "bytes/record")
		})
	}
}
