package cpuslot

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// spin burns about n iterations of CPU.
func spin(n int) uint64 {
	x := uint64(1)
	for i := 0; i < n; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	return x
}

var sink atomic.Uint64

// BenchmarkShortTaskUnderLoad measures how long a short task (a small
// search: about 0.1 ms of CPU) takes from its arrival (a timer's wake-up)
// to its end while 2 ×
// GOMAXPROCS goroutines run CPU-bound background work in units of about
// 0.3 ms: without slots (the Go scheduler alone: the task queues behind
// the runnable work, which runs until preempted) and with them (the work
// on low-priority slots, yielding at each unit's end; the task on a
// high-priority one). It reports the task's median and 90th percentile
// wall time.
func BenchmarkShortTaskUnderLoad(b *testing.B) {
	const task, unit = 100_000, 300_000 // iterations: ~0.1 ms and ~0.3 ms
	for _, tc := range []struct {
		name string
		pool *Pool
	}{{"scheduler", nil}, {"slots", New(0)}} {
		b.Run(tc.name, func(b *testing.B) {
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			for range 2 * runtime.GOMAXPROCS(0) {
				wg.Go(func() {
					h := tc.pool.NewHold(Low)
					defer h.Release()
					for ctx.Err() == nil {
						if err := h.Yield(ctx); err != nil {
							return
						}
						sink.Add(spin(unit))
					}
				})
			}
			lat := make([]time.Duration, 0, b.N)
			for b.Loop() {
				// The task arrives 1 ms from now, as a request would; its
				// wait for the goroutine's wake-up counts.
				start := time.Now().Add(time.Millisecond)
				time.Sleep(time.Millisecond)
				if err := tc.pool.Acquire(ctx, High); err != nil {
					b.Fatal(err)
				}
				sink.Add(spin(task))
				tc.pool.Release(High)
				lat = append(lat, time.Since(start))
			}
			cancel()
			wg.Wait()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*9/10].Microseconds()), "p90-µs")
		})
	}
}
