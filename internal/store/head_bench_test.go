package store

import (
	"math/rand/v2"
	"runtime"
	"testing"
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
