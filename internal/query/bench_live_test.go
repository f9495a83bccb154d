package query

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/sluice-log/sluice/bench/gen"
	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/store"
)

// liveRecordsPerDay is how many generated records each day of
// BenchmarkLiveLastHour's store holds.
const liveRecordsPerDay = 600_000

// BenchmarkLiveLastHour asks the bench's small last-hour queries (stream,
// trace, field) of a store laid out as a node's under ingest, in process:
//
//   - settled: the last hour of a day whose partition was merged once
//     idle, while another day's partition is live (sluice-bench's
//     -live phase with -end pinned to an earlier day: the records sent
//     under the queries land in today's partition);
//   - live: the last hour of the partition still receiving records: its
//     parts tiered by merges up to three hours before its end, then one
//     flushed part every six minutes with no merge since (merges fallen
//     behind, as under heavy ingest: about 30 small parts), and the last
//     minute's records in the in-memory head.
//
// Every answer is checked against the generator's ground truth first.
func BenchmarkLiveLastHour(b *testing.B) {
	ls := openLiveStore(b)
	st := ls.st
	for range *liveRounds {
		benchLiveLastHour(b, st, ls)
	}
}

// liveRounds is how many times BenchmarkLiveLastHour runs each query's
// benchmark on the store it built once (samples for benchstat, without
// building the store again as -count does).
var liveRounds = flag.Int("live.rounds", 1, "BenchmarkLiveLastHour: runs of each query's benchmark on one store")

func benchLiveLastHour(b *testing.B, st *store.Store, ls liveBench) {
	for _, c := range []struct {
		name string
		g    *gen.Generator
	}{{"settled", ls.settled}, {"live", ls.live}} {
		for _, bq := range c.g.RecentQueries() {
			if !slices.Contains([]string{"stream", "trace", "field"}, bq.Name) {
				continue
			}
			q, err := Parse(bq.Sluice)
			if err != nil {
				b.Fatalf("%s: parse %q: %v", bq.Name, bq.Sluice, err)
			}
			opts := Options{From: c.g.RecentFrom().UnixNano(), To: c.g.To().UnixNano()}
			run := func() []map[string]string { return benchRows(b, st, bq.Name, q, opts) }
			var ss store.SearchStats
			opts.Stats = &ss
			if err := bq.Want.Check(run()); err != nil {
				b.Fatalf("%s/%s (%s): wrong answer: %v", c.name, bq.Name, bq.Sluice, err)
			}
			opts.Stats = nil
			b.Logf("%s/%s: %d parts (%d skipped), %d blocks (%d skipped by time, %d by stream, %d by index; %d counted, %d read), %d head records",
				c.name, bq.Name, ss.Parts, ss.PartsSkipped, ss.Blocks, ss.BlocksSkippedTime, ss.BlocksSkippedStream, ss.BlocksSkippedIndex,
				ss.BlocksCounted, ss.BlocksRead, ss.HeadRecords)
			b.Run(c.name+"/"+bq.Name, func(b *testing.B) {
				b.ReportAllocs()
				cpu0 := processCPU(b)
				for b.Loop() {
					run()
				}
				b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

// liveBench is BenchmarkLiveLastHour's store and the generators of its
// two days.
type liveBench struct {
	st            *store.Store
	settled, live *gen.Generator
}

// openLiveStore builds BenchmarkLiveLastHour's store in b.TempDir.
func openLiveStore(b *testing.B) liveBench {
	end := time.Date(2026, 1, 2, 20, 30, 0, 0, time.UTC)
	dir := b.TempDir()
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	conv := ingest.NewConverter(ingest.RecordConfig{
		TimeFields:    []string{record.TimeField},
		MessageFields: []string{record.MessageField},
		StreamFields:  []string{"service", "host", "container"},
	})
	// feed appends g's records in batches of at most batch; after each
	// batch, step is told how many records went in so far.
	var seq uint64
	feed := func(st *store.Store, g *gen.Generator, batch int, step func(done int)) {
		var buf []byte
		var recs []record.Record
		done := 0
		for g.Remaining() > 0 {
			var n int
			buf, n = g.AppendBatch(buf[:0], batch)
			recs = convertLines(b, conv, recs[:0], buf)
			seq += uint64(n)
			done += n
			st.Append(recs, seq)
			step(done)
		}
	}

	// The settled day: two days before end, flushed in 20 parts, then
	// merged as an idle partition is.
	settled, err := gen.New(gen.Config{Seed: 1, Records: liveRecordsPerDay, End: end.Add(-48 * time.Hour)})
	if err != nil {
		b.Fatal(err)
	}
	st, err := store.Open(dir, store.Options{IdleMergeAfter: time.Nanosecond}, logger)
	if err != nil {
		b.Fatal(err)
	}
	feed(st, settled, 1000, func(done int) {
		if done%(liveRecordsPerDay/20) == 0 {
			if err := st.Flush(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	if err := st.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	if err := st.Merge(ctx); err != nil {
		b.Fatal(err)
	}
	if err := st.Close(); err != nil {
		b.Fatal(err)
	}

	// The live day, up to end: no idle merge from here on.
	st, err = store.Open(dir, store.Options{IdleMergeAfter: -1, QuietAfter: -1}, logger)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	live, err := gen.New(gen.Config{Seed: 2, Records: liveRecordsPerDay, End: end})
	if err != nil {
		b.Fatal(err)
	}
	const flushEvery = liveRecordsPerDay / 240              // six minutes of records
	mergeUntil := liveRecordsPerDay * 21 / 24               // three hours before end
	headFrom := liveRecordsPerDay - liveRecordsPerDay/24/60 // the last minute
	flushed := false
	feed(st, live, 250, func(done int) {
		if flushed || done%flushEvery != 0 && done < headFrom {
			return
		}
		flushed = done >= headFrom
		if err := st.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		if done < mergeUntil {
			if err := st.Merge(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Logf("%d parts, %d records in the head", st.Stats().Parts, st.Stats().HeadRecords)
	return liveBench{st: st, settled: settled, live: live}
}
