package store

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-log/sluice/bench/gen"
	"github.com/sluice-log/sluice/internal/ingest/jsonline"
	"github.com/sluice-log/sluice/internal/record"
)

func BenchmarkAppend(b *testing.B) {
	recs := genRecords(rand.New(rand.NewPCG(1, 1)), 1000, 0)
	s := openTest(b, b.TempDir(), Options{})
	defer s.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		s.Append(recs, uint64(i))
		if i%100 == 99 { // keep the head from growing without bound
			b.StopTimer()
			s.mu.Lock()
			s.active = newHead()
			s.mu.Unlock()
			b.StartTimer()
		}
	}
	b.ReportMetric(float64(b.N*len(recs))/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkFlush(b *testing.B) {
	recs := genRecords(rand.New(rand.NewPCG(1, 1)), 20000, 0)
	s := openTest(b, b.TempDir(), Options{})
	defer s.Close()
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		s.Append(recs, uint64(i+1))
		b.StartTimer()
		if err := s.Flush(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(recs))/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkSearchSelectiveToken searches for a word that only a few blocks
// hold, so the bloom filters skip most blocks unread.
func BenchmarkSearchSelectiveToken(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	recs := genRecords(rng, 100000, 0)
	for i := range recs {
		recs[i].Tenant = ""
		if i%5000 == 0 {
			recs[i].Message += " needle"
		}
	}
	s := openTest(b, b.TempDir(), Options{BlockRecords: 1024})
	defer s.Close()
	s.Append(recs, 1)
	if err := s.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	req := SearchRequest{Filter: &testFilter{kind: "word", field: record.MessageField, word: "needle"}}
	before := s.Stats()
	found := 0
	defer reportCPU(b)()
	b.ReportAllocs()
	for b.Loop() {
		found = 0
		err := s.Search(context.Background(), req, func(*record.Record) error { found++; return nil })
		if err != nil {
			b.Fatal(err)
		}
	}
	if found != 20 {
		b.Fatalf("found %d records, want 20", found)
	}
	st := s.Stats()
	b.ReportMetric(float64(st.BlocksSkipped-before.BlocksSkipped)/float64(b.N), "blocks-skipped/op")
	b.ReportMetric(float64(st.BlocksRead-before.BlocksRead)/float64(b.N), "blocks-read/op")
}

// BenchmarkSearchAll visits every record of 100k in parts, with all fields
// and with SearchRequest.Fields naming one field (as `stats count() by
// level` can).
func BenchmarkSearchAll(b *testing.B) {
	recs := genRecords(rand.New(rand.NewPCG(1, 1)), 100000, 0)
	for i := range recs {
		recs[i].Tenant = ""
	}
	s := openTest(b, b.TempDir(), Options{})
	defer s.Close()
	s.Append(recs, 1)
	if err := s.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name   string
		fields []string
	}{{"all-fields", nil}, {"level-only", []string{"level"}}} {
		b.Run(bc.name, func(b *testing.B) { benchVisitAll(b, s, len(recs), bc.fields) })
	}
}

// benchGenRecords is the bench harness's mixed data set (app, nginx, Java
// and syslog lines over one UTC day) as the jsonline receiver turns it into
// records, so that bytes per record compare with the end-to-end benchmark.
var benchGenRecords = sync.OnceValues(func() ([]record.Record, error) {
	const n = 200000
	g, err := gen.New(gen.Config{Seed: 1, Records: n, End: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		return nil, err
	}
	data, _ := g.AppendBatch(nil, n)
	p := jsonline.NewParser(jsonline.DefaultConfig().Record)
	recs := make([]record.Record, 0, n)
	now := time.Now()
	for line := range bytes.Lines(data) {
		r, err := p.ParseLine(bytes.TrimSuffix(line, []byte("\n")), now, "")
		if err != nil {
			return nil, err
		}
		recs = append(recs, r)
	}
	return recs, nil
})

func genBenchStore(b *testing.B, opts Options, flushes int) (*Store, []record.Record) {
	recs, err := benchGenRecords()
	if err != nil {
		b.Fatal(err)
	}
	s := openTest(b, b.TempDir(), opts)
	step := (len(recs) + flushes - 1) / flushes
	for i := 0; i < len(recs); i += step {
		s.Append(recs[i:min(i+step, len(recs))], uint64(i+1))
		if err := s.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	return s, recs
}

// BenchmarkPartBytesGen writes the bench data set as one flushed part and,
// flushed in maxMergeFanIn parts, merges them into one at several zstd
// levels: bytes/record is the disk size of the result, the time per op of
// the merges is the merge's alone.
func BenchmarkPartBytesGen(b *testing.B) {
	b.Run("flush", func(b *testing.B) {
		for b.Loop() {
			s, recs := genBenchStore(b, Options{}, 1)
			b.ReportMetric(float64(s.Stats().DiskBytes)/float64(len(recs)), "bytes/record")
			s.Close()
		}
	})
	for _, level := range []int{1, 3, defaultMergeZstdLevel} {
		b.Run(fmt.Sprintf("merge-level%d", level), func(b *testing.B) {
			var bpr float64
			for b.Loop() {
				b.StopTimer()
				// A final merge (an idle partition's), which writes at
				// MergeZstdLevel: the parts are all of one tier, but
				// fewer than the fan-in.
				s, recs := genBenchStore(b, Options{MergeFanIn: 100, IdleMergeAfter: time.Nanosecond, MergeZstdLevel: level}, maxMergeFanIn)
				b.StartTimer()
				if err := s.Merge(context.Background()); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				st := s.Stats()
				if st.Parts != 1 {
					b.Fatalf("%d parts after merge", st.Parts)
				}
				bpr = float64(st.DiskBytes) / float64(len(recs))
				s.Close()
				b.StartTimer()
			}
			b.ReportMetric(bpr, "bytes/record")
		})
	}
}

// BenchmarkSearchGen visits every record of the bench data set in one part
// with the projections a query engine asks for: everything, one
// low-cardinality field, the timestamps only and the message only.
func BenchmarkSearchGen(b *testing.B) {
	s, recs := genBenchStore(b, Options{}, 1)
	defer s.Close()
	for _, bc := range []struct {
		name   string
		fields []string
	}{{"all", nil}, {"level", []string{"level"}}, {"times", []string{}}, {"message", []string{record.MessageField}}} {
		b.Run(bc.name, func(b *testing.B) { benchVisitAll(b, s, len(recs), bc.fields) })
	}
}

// BenchmarkSearchGenColdIndex is BenchmarkSearchGen with an index cache
// too small to keep anything: every search reads and decodes the index
// chunks it needs (from the page cache), as a search of data whose index
// the cache does not hold does.
func BenchmarkSearchGenColdIndex(b *testing.B) {
	s, recs := genBenchStore(b, Options{IndexCacheBytes: 1}, 1)
	defer s.Close()
	for _, bc := range []struct {
		name   string
		fields []string
	}{{"level", []string{"level"}}, {"times", []string{}}} {
		b.Run(bc.name, func(b *testing.B) { benchVisitAll(b, s, len(recs), bc.fields) })
	}
}

// BenchmarkOpen opens a store of 64 partitions of 4 parts each, closed
// cleanly, as a restart does, with records of two sizes: the time until
// the store serves must not grow with the bytes stored.
func BenchmarkOpen(b *testing.B) {
	for _, payload := range []int{0, 1024} {
		b.Run(fmt.Sprintf("payload-%d", payload), func(b *testing.B) { benchOpen(b, payload) })
	}
}

func benchOpen(b *testing.B, payload int) {
	dir := b.TempDir()
	s := openTest(b, dir, Options{})
	rng := rand.New(rand.NewPCG(2, 2))
	for range 4 {
		recs := genRecords(rng, 64*500, 0)
		for i := range recs {
			recs[i].Tenant = ""
			recs[i].Time = testBase + int64(i%64)*int64(24*time.Hour) + int64(i)
			if payload > 0 {
				// Random letters: zstd cannot shrink them much.
				buf := make([]byte, payload)
				for j := range buf {
					buf[j] = byte('a' + rng.IntN(26))
				}
				recs[i].Message += " " + string(buf)
			}
		}
		s.Append(recs, 1)
		if err := s.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	st := s.Stats()
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	defer reportCPU(b)()
	for b.Loop() {
		s := openTest(b, dir, Options{})
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(st.Parts), "parts")
	b.ReportMetric(float64(st.DiskBytes)/float64(1<<20), "MiB")
}

// BenchmarkEncodeBlocksGen encodes the bench data set's blocks (grouped by
// stream as a part holds them) at the zstd levels of flushes and merges:
// the CPU a level costs per record, against the bytes it saves.
func BenchmarkEncodeBlocksGen(b *testing.B) {
	recs, err := benchGenRecords()
	if err != nil {
		b.Fatal(err)
	}
	byKey := map[string][]*record.Record{}
	var keys []string
	for i := range recs {
		k := streamKey(recs[i].Tenant, recs[i].Stream)
		if byKey[k] == nil {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], &recs[i])
	}
	slices.Sort(keys)
	for _, level := range []int{1, 3, defaultMergeZstdLevel} {
		b.Run(fmt.Sprintf("level%d", level), func(b *testing.B) {
			enc, err := newEncoder(level, 1)
			if err != nil {
				b.Fatal(err)
			}
			defer enc.Close()
			e := &blockEncoder{enc: enc}
			var bb blockBuilder
			var out []byte
			stored := 0
			for b.Loop() {
				stored = 0
				for _, k := range keys {
					rs := byKey[k]
					for start := 0; start < len(rs); start += defaultBlockRecords {
						bb.reset(rs[start], k)
						for _, r := range rs[start:min(start+defaultBlockRecords, len(rs))] {
							bb.add(r, nil)
						}
						var m blockMeta
						out = bb.encode(out[:0], &m, e)
						stored += len(out)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/record")
			b.ReportMetric(float64(stored)/float64(len(recs)), "block-bytes/record")
		})
	}
}

// benchVisitAll searches every one of the n records of s with fields as
// SearchRequest.Fields, and reports records/s and the bytes read per
// search (what a projection saves).
func benchVisitAll(b *testing.B, s *Store, n int, fields []string) {
	defer reportCPU(b)()
	b.ReportAllocs()
	var stats SearchStats
	for b.Loop() {
		visited := 0
		err := s.Search(context.Background(), SearchRequest{Fields: fields, Stats: &stats}, func(*record.Record) error { visited++; return nil })
		if err != nil || visited != n {
			b.Fatalf("visited %d records, err %v", visited, err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(stats.BytesRead)/float64(b.N), "read-B/op")
}

// reportCPU reports the process's CPU time (user and system, every
// thread, the garbage collector's too) per op, from the call to the call
// of the function it returns: on a machine shared with other work it
// varies far less than the time per op does.
func reportCPU(b *testing.B) func() {
	cpu := func() time.Duration {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			b.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start := cpu()
	return func() { b.ReportMetric(float64(cpu()-start)/float64(b.N), "cpu-ns/op") }
}

// BenchmarkFirstQuery is the first query over one part of about 200 MB
// after a start, when it waits for the part's sha256 check before its
// first read (check) and without it (nocheck: what it cost before the
// check, when the scrubber alone hashed parts): a selective search that
// reads one block, and a search that decodes every record. Each
// iteration opens the store, so the part is unverified every time; its
// file stays in the page cache.
func BenchmarkFirstQuery(b *testing.B) {
	dir := b.TempDir()
	s := openTest(b, dir, Options{})
	rng := rand.New(rand.NewPCG(3, 3))
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
	stream := []record.Field{{Name: "host", Value: "big"}}
	for batch := range 66 {
		recs := make([]record.Record, 1000)
		for i := range recs {
			// Random characters: zstd stores them at about 6 bits each.
			buf := make([]byte, 4096)
			for j := range buf {
				buf[j] = alphabet[rng.IntN(len(alphabet))]
			}
			n := batch*len(recs) + i
			recs[i] = record.Record{Time: testBase + int64(n)*int64(time.Millisecond), Stream: stream,
				Message: fmt.Sprintf("line%d %s", n, buf)}
		}
		s.Append(recs, uint64(batch+1))
	}
	if err := s.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	st := s.Stats()
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	for _, q := range []struct {
		name   string
		filter Filter
	}{{"selective", &testFilter{kind: "word", field: record.MessageField, word: "line4242"}}, {"all", nil}} {
		for _, check := range []bool{true, false} {
			name := q.name + "/nocheck"
			if check {
				name = q.name + "/check"
			}
			b.Run(name, func(b *testing.B) {
				for b.Loop() {
					s := openTest(b, dir, Options{})
					if !check {
						s.pio.check = nil
					}
					n := 0
					err := s.Search(context.Background(), SearchRequest{Filter: q.filter}, func(*record.Record) error { n++; return nil })
					if err != nil || n == 0 {
						b.Fatalf("search: %d records, %v", n, err)
					}
					if err := s.Close(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(st.DiskBytes)/float64(1<<20), "MiB")
				b.ReportMetric(float64(st.Parts), "parts")
			})
		}
	}
}

// BenchmarkFlushGen plans and writes the parts of a head holding the
// bench data set, appended in batches as the HTTP receivers append it
// (streams interleaved in the head's chunks): the flush writers' CPU per
// record, without the fsyncs and the manifest commit. cpu-ns/op counts
// the planning and writing alone (every writer thread), not the appends.
func BenchmarkFlushGen(b *testing.B) {
	recs, err := benchGenRecords()
	if err != nil {
		b.Fatal(err)
	}
	s := openTest(b, b.TempDir(), Options{})
	defer s.Close()
	h := newHead()
	const batch = 1000
	for i := 0; i < len(recs); i += batch {
		h.appendBatch(recs[i:min(i+batch, len(recs))])
	}
	ctx := context.Background()
	var cpu time.Duration
	b.ReportAllocs()
	for b.Loop() {
		start := processCPU()
		plan := planFlush([]*head{h})
		sealed, err := s.writeJobs(ctx, plan, plan.jobs(runtime.GOMAXPROCS(0)))
		cpu += processCPU() - start
		if err != nil {
			b.Fatal(err)
		}
		for i := range sealed {
			sealed[i].remove()
		}
	}
	b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(cpu)/float64(b.N*len(recs)), "cpu-ns/record")
}
