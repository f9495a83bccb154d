package query

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/bench/gen"
	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/store"
)

// benchQueryRecords is how many generated records BenchmarkBenchQueries
// stores; benchHeadShare of them stay in the in-memory head, the rest are
// flushed into parts, so that both search paths are measured.
const (
	benchQueryRecords = 200_000
	benchHeadShare    = 10
)

// BenchmarkBenchQueries runs the queries of sluice-bench (bench/gen) by
// name over a real store, in process, so that their per-row and per-block
// cost can be profiled without HTTP in the way. Each query's answer is
// checked against the generator's ground truth before it is timed.
func BenchmarkBenchQueries(b *testing.B) {
	st, queries := openBenchStore(b, benchQueryRecords, benchHeadShare, nil)
	benchQueries(b, st, queries)
}

// benchQueries checks and times queries over st, one sub-benchmark each.
func benchQueries(b *testing.B, st store.Searcher, queries []gen.Query) {
	for _, bq := range queries {
		q, err := Parse(bq.Sluice)
		if err != nil {
			b.Fatalf("%s: parse %q: %v", bq.Name, bq.Sluice, err)
		}
		run := func() []map[string]string { return benchRows(b, st, bq.Name, q, Options{}) }
		if err := bq.Want.Check(run()); err != nil {
			b.Fatalf("%s (%s): wrong answer: %v", bq.Name, bq.Sluice, err)
		}
		b.Run(bq.Name, func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := processCPU(b)
			for b.Loop() {
				run()
			}
			b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// openBenchStore fills a store in b.TempDir with records generated
// records, the last headShare percent left in the head (none: all
// flushed and merged, a settled store), and returns it with the bench
// queries and their answers. seen, when not nil, is given every record.
func openBenchStore(b *testing.B, records, headShare int, seen func(record.Record)) (*store.Store, []gen.Query) {
	b.Helper()
	g, err := gen.New(gen.Config{Seed: 1, Records: records, End: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		b.Fatal(err)
	}
	st, err := store.Open(b.TempDir(), store.Options{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	conv := ingest.NewConverter(ingest.RecordConfig{
		TimeFields:    []string{record.TimeField},
		MessageFields: []string{record.MessageField},
		StreamFields:  []string{"service", "host", "container"},
	})
	ctx := context.Background()
	var buf []byte
	var recs []record.Record
	seq := uint64(0)
	flushAt := records * (100 - headShare) / 100
	for g.Remaining() > 0 {
		batch := 1000
		if int(seq) < flushAt {
			// The flush point cuts this batch short.
			batch = min(batch, flushAt-int(seq))
		}
		var n int
		buf, n = g.AppendBatch(buf[:0], batch)
		recs = convertLines(b, conv, recs[:0], buf)
		if seen != nil {
			for _, r := range recs {
				seen(r)
			}
		}
		seq += uint64(n)
		st.Append(recs, seq)
		if int(seq) == flushAt {
			if err := st.Flush(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	if headShare == 0 {
		if err := st.Merge(ctx); err != nil {
			b.Fatal(err)
		}
	}
	return st, g.Queries()
}

// settledRecords is how many generated records BenchmarkSettledQueries
// stores.
const settledRecords = 400_000

// BenchmarkSettledQueries runs the bench's infix and top_traces queries,
// and top_traces over every record (a stats by a nearly unique key over
// about settledRecords groups, as the last-hour top_traces of a long run
// groups hundreds of thousands of trace ids), over a settled store: every
// record flushed and merged, none in the head. Each answer is checked
// first; the wide top_traces against counts of the records as made.
func BenchmarkSettledQueries(b *testing.B) {
	traces := map[string]int64{}
	st, queries := openBenchStore(b, settledRecords, 0, func(r record.Record) {
		v, _ := r.Get("trace_id")
		traces[v]++
	})
	var groups []gen.Group
	var rest int64
	for k, n := range traces {
		if n == 1 {
			rest++
		} else {
			groups = append(groups, gen.Group{Key: strings.Clone(k), N: n})
		}
	}
	b.Logf("top_traces_all: %d records, %d groups", settledRecords, len(traces))
	var picked []gen.Query
	for _, q := range queries {
		if q.Name == "infix" || q.Name == "top_traces" {
			picked = append(picked, q)
		}
	}
	picked = append(picked, gen.Query{
		Name:   "top_traces_all",
		Sluice: "* | stats count() as n by trace_id | sort by n desc | limit 5",
		Want:   gen.Answer{By: "trace_id", Groups: gen.SortGroups(groups), Limit: 5, RestGroups: rest, Rest: 1},
	})
	benchQueries(b, st, picked)
}

// benchRows runs q over st and returns its rows as maps of their values.
func benchRows(b *testing.B, st store.Searcher, name string, q *Query, opts Options) []map[string]string {
	var rows []map[string]string
	err := Execute(context.Background(), st, q, opts, func(r Row) error {
		m := make(map[string]string, len(r.Values))
		for _, v := range r.Values {
			m[v.Name] = v.String()
		}
		rows = append(rows, m)
		return nil
	})
	if err != nil {
		b.Fatalf("%s: execute: %v", name, err)
	}
	return rows
}

// convertLines appends the records of buf's JSON lines to recs.
func convertLines(b *testing.B, conv *ingest.Converter, recs []record.Record, buf []byte) []record.Record {
	for line := range bytes.SplitSeq(bytes.TrimSuffix(buf, []byte("\n")), []byte("\n")) {
		r, err := conv.Convert(line, time.Now(), "", nil)
		if err != nil {
			b.Fatalf("convert %s: %v", line, err)
		}
		recs = append(recs, r)
	}
	return recs
}
