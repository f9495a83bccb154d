//go:build linux

package store

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/sluice-log/sluice/internal/record"
)

// Parameters of BenchmarkContinuousIngest, e.g.
//
//	go test ./internal/store -run XXX -bench ContinuousIngest -benchtime 1x -args -ci.flushes 2000 -ci.fanin 8
var (
	ciFlushes      = flag.Int("ci.flushes", 300, "BenchmarkContinuousIngest: flushes into the day's partition")
	ciFlushRecords = flag.Int("ci.flush-records", 10000, "BenchmarkContinuousIngest: records per flush")
	ciFanIn        = flag.Int("ci.fanin", defaultMergeFanIn, "BenchmarkContinuousIngest: Options.MergeFanIn")
	ciRate         = flag.Int("ci.rate", 0, "BenchmarkContinuousIngest: records/s to ingest at (0: as fast as flushes go)")
)

// BenchmarkContinuousIngest simulates a long continuous ingest into one
// day: the bench data set, retimed to spread evenly over the day, appended
// and flushed ci.flushes times while both merge lanes run in the
// background, as the pipeline runs them (woken after every flush). It
// reports the write amplification (bytes written by flushes and merges
// over bytes flushed), the parts of the partition (most at any flush, and
// once the merges due have run), the CPU per million records (the whole
// process; and the merges' own, from their threads' rusage), then the same
// after the idle partition's final merge. The parts over time are logged.
func BenchmarkContinuousIngest(b *testing.B) {
	recs, err := benchGenRecords()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		runContinuousIngest(b, recs)
	}
}

func runContinuousIngest(b *testing.B, recs []record.Record) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := openTest(b, b.TempDir(), Options{MergeFanIn: *ciFanIn})
	defer s.Close()
	flushes, per := *ciFlushes, *ciFlushRecords
	total := flushes * per
	dayStart := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	step := nsPerDay / int64(total)

	var (
		wg       sync.WaitGroup
		kicks    [numLanes]chan struct{}
		mergeCPU atomic.Int64 // ns of the merge threads' CPU
		mergeErr atomic.Pointer[error]
	)
	for lane := range numLanes {
		kicks[lane] = make(chan struct{}, 1)
		wg.Go(func() {
			// One OS thread per lane, so that its rusage is the lane's CPU:
			// a merge decodes and encodes in the calling goroutine.
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			for {
				select {
				case <-ctx.Done():
					return
				case <-kicks[lane]:
				case <-time.After(100 * time.Millisecond):
				}
				t0 := threadCPU()
				if err := s.MergeLane(ctx, lane); err != nil && ctx.Err() == nil {
					mergeErr.Store(&err)
				}
				mergeCPU.Add(int64(threadCPU() - t0))
			}
		})
	}
	kick := func() {
		for _, k := range kicks {
			select {
			case k <- struct{}{}:
			default:
			}
		}
	}

	var series strings.Builder
	maxParts := 0
	cpu0, start := processCPU(), time.Now()
	batch := make([]record.Record, per)
	for f := range flushes {
		for i := range batch {
			n := f*per + i
			batch[i] = recs[n%len(recs)]
			batch[i].Tenant = ""
			batch[i].Time = dayStart + int64(n)*step
		}
		s.Append(batch, uint64((f+1)*per))
		if err := s.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		kick()
		if _, err := s.AssistMerges(ctx); err != nil { // as the pipeline does
			b.Fatal(err)
		}
		parts := s.Stats().Parts
		maxParts = max(maxParts, parts)
		if f%max(1, flushes/20) == 0 || f == flushes-1 {
			fmt.Fprintf(&series, " %d:%d%v", f+1, parts, tierCounts(s))
		}
		if *ciRate > 0 {
			if ahead := time.Duration(float64((f+1)*per)/float64(*ciRate)*float64(time.Second)) - time.Since(start); ahead > 0 {
				time.Sleep(ahead)
			}
		}
	}
	ingestWall := time.Since(start)
	// The merges due (not the idle partition's final one) finish: the
	// layout a live node has.
	if err := s.Merge(ctx); err != nil {
		b.Fatal(err)
	}
	cancel()
	wg.Wait()
	if errp := mergeErr.Load(); errp != nil {
		b.Fatal(*errp)
	}
	st := s.Stats()
	cpu := processCPU() - cpu0
	million := float64(total) / 1e6
	b.ReportMetric(float64(st.FlushedBytes+st.MergedBytes)/float64(st.FlushedBytes), "WA")
	b.ReportMetric(float64(maxParts), "max-parts")
	b.ReportMetric(float64(st.Parts), "settled-parts")
	b.ReportMetric(cpu.Seconds()/million, "cpu-s/M")
	b.ReportMetric(time.Duration(mergeCPU.Load()).Seconds()/million, "merge-cpu-s/M")
	b.ReportMetric(float64(total)/ingestWall.Seconds(), "records/s")
	b.ReportMetric(float64(st.MergeAssists), "assists")
	b.Logf("fan-in %d, %d flushes of %d records: parts after flush n (n:parts[per tier]):%s", *ciFanIn, flushes, per, series.String())
	b.Logf("live layout: %d parts, %.1f MB flushed, %.1f MB merged, WA %.2f, %.1f bytes/record, parts bound %d",
		st.Parts, float64(st.FlushedBytes)/1e6, float64(st.MergedBytes)/1e6,
		float64(st.FlushedBytes+st.MergedBytes)/float64(st.FlushedBytes), float64(st.DiskBytes)/float64(total), s.policy.partsBound(st.DiskBytes))

	// The day ends: the idle partition's final merge.
	s.mu.Lock()
	s.policy.idleAfter = 0
	s.mu.Unlock()
	cpu1 := processCPU()
	if err := s.Merge(context.Background()); err != nil {
		b.Fatal(err)
	}
	fin := s.Stats()
	b.ReportMetric(float64(fin.FlushedBytes+fin.MergedBytes)/float64(fin.FlushedBytes), "WA-final")
	b.ReportMetric(float64(fin.Parts), "final-parts")
	b.Logf("after the final merge: %d parts, WA %.2f, %.1f bytes/record, %.1f s CPU for it",
		fin.Parts, float64(fin.FlushedBytes+fin.MergedBytes)/float64(fin.FlushedBytes), float64(fin.DiskBytes)/float64(total), (processCPU() - cpu1).Seconds())
}

// tierCounts is how many parts each tier of s's partitions holds.
func tierCounts(s *Store) []int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var n []int
	for _, ps := range s.parts {
		for _, p := range ps {
			t := s.policy.tier(p.size)
			for len(n) <= t {
				n = append(n, 0)
			}
			n[t]++
		}
	}
	return n
}

func processCPU() time.Duration { return rusage(syscall.RUSAGE_SELF) }

// threadCPU is the calling thread's CPU time (RUSAGE_THREAD, Linux).
func threadCPU() time.Duration { return rusage(1) }

func rusage(who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// denseStreams are the streams of BenchmarkFinalMerge's dense case.
var denseStreams = func() [][]record.Field {
	out := make([][]record.Field, 4)
	for i := range out {
		out[i] = []record.Field{{Name: "service", Value: fmt.Sprintf("svc%d", i)}}
	}
	return out
}()

// BenchmarkFinalMerge merges the bench data set's day (200,000 records),
// flushed in time order in a few parts, into one part as an idle
// partition's final merge does, with and without copying the blocks the
// merge need not combine (see mergeInto). "day" keeps the data set's
// times: its streams are sparse (most hold fewer than 1024 records an
// hour), so most blocks join records of several flushes. "dense" puts
// the same records into 4 streams, about 2,000 records a stream an hour,
// as on a node whose streams take a record every few seconds or more:
// blocks end at UTC hours (blockSpan), and only those of the hours where
// one flush ends and the next begins are combined; the others are
// copied. It reports the merge's CPU per million records (the process's,
// merge only), the bytes per record of the result and the share of
// blocks copied.
func BenchmarkFinalMerge(b *testing.B) {
	benchMerge(b, []int{3, 12}, func(s *Store) *zstd.Encoder { return s.menc })
}

// BenchmarkTierMerge is BenchmarkFinalMerge for a small-lane tier
// merge: the day flushed in store.merge_fan_in (8) parts, in time order,
// merged into one at the flushes' zstd level (Store.mergeEncoder), as at
// 10 million records a day the flushes of about 20 minutes are.
func BenchmarkTierMerge(b *testing.B) {
	benchMerge(b, []int{8}, func(s *Store) *zstd.Encoder { return s.senc })
}

// benchMerge runs BenchmarkFinalMerge's merges of the day flushed in
// each of flushCounts parts, at enc's level.
func benchMerge(b *testing.B, flushCounts []int, enc func(s *Store) *zstd.Encoder) {
	recs, err := benchGenRecords()
	if err != nil {
		b.Fatal(err)
	}
	for _, layout := range []string{"day", "dense"} {
		in := recs
		if layout == "dense" {
			in = slices.Clone(recs)
			for i := range in {
				in[i].Stream = denseStreams[i%len(denseStreams)]
			}
		}
		for _, flushes := range flushCounts {
			for _, copyBlocks := range []bool{true, false} {
				name := fmt.Sprintf("%s/flushes=%d/copy=%v", layout, flushes, copyBlocks)
				b.Run(name, func(b *testing.B) {
					var cpu time.Duration
					var st Stats
					for b.Loop() {
						b.StopTimer()
						s := openTest(b, b.TempDir(), Options{IdleMergeAfter: -1, noBlockCopy: !copyBlocks})
						step := (len(in) + flushes - 1) / flushes
						for i := 0; i < len(in); i += step {
							s.Append(in[i:min(i+step, len(in))], uint64(i+1))
							if err := s.Flush(context.Background()); err != nil {
								b.Fatal(err)
							}
						}
						parts := livePartsByName(s)
						t0 := processCPU()
						b.StartTimer()
						if err := s.mergeParts(context.Background(), parts, enc(s)); err != nil {
							b.Fatal(err)
						}
						b.StopTimer()
						cpu += processCPU() - t0
						st = s.Stats()
						if st.Parts != 1 {
							b.Fatalf("%d parts after the merge", st.Parts)
						}
						s.Close()
						b.StartTimer()
					}
					b.ReportMetric(cpu.Seconds()/float64(b.N)/float64(len(in))*1e6, "cpu-s/1M-records")
					b.ReportMetric(float64(st.DiskBytes)/float64(len(in)), "bytes/record")
					b.ReportMetric(float64(st.MergeBlocksCopied)/float64(st.MergeBlocks), "copied/block")
				})
			}
		}
	}
}
