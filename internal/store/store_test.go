package store

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/sluice-log/sluice/internal/record"
)

// canon renders a record for comparison; field order does not matter.
func canon(r *record.Record) string {
	c := r.Clone()
	sortFields(c.Fields)
	return c.Tenant + "|" + string(record.AppendJSON(nil, &c))
}

func bruteForce(recs []record.Record, req SearchRequest) []string {
	var out []string
	for i := range recs {
		r := &recs[i]
		if r.Tenant != req.Tenant || r.Time < req.From || req.To != 0 && r.Time >= req.To {
			continue
		}
		if req.Filter != nil && !req.Filter.Match(r) {
			continue
		}
		out = append(out, canon(r))
	}
	slices.Sort(out)
	return out
}

func searchAll(t testing.TB, s *Store, req SearchRequest) []string {
	t.Helper()
	var out []string
	err := s.Search(context.Background(), req, func(r *record.Record) error {
		out = append(out, canon(r))
		return nil
	})
	if err != nil {
		t.Fatalf("search: %v", err)
	}
	slices.Sort(out)
	return out
}

func checkQueries(t *testing.T, stage string, s *Store, all []record.Record, rng *rand.Rand, n int) {
	t.Helper()
	// The empty request over each tenant checks exactly-once in full.
	for _, tenant := range testTenants {
		req := SearchRequest{Tenant: tenant}
		if got, want := searchAll(t, s, req), bruteForce(all, req); !slices.Equal(got, want) {
			t.Fatalf("%s: tenant %q: got %d records, want %d", stage, tenant, len(got), len(want))
		}
	}
	for range n {
		req := randRequest(rng)
		got, want := searchAll(t, s, req), bruteForce(all, req)
		if !slices.Equal(got, want) {
			f := "<nil>"
			if req.Filter != nil {
				f = req.Filter.(*testFilter).String()
			}
			t.Fatalf("%s: tenant %q [%d,%d) filter %s: got %d records, want %d", stage, req.Tenant, req.From, req.To, f, len(got), len(want))
		}
		checkNarrowSearches(t, stage, s, all, req, rng)
	}
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

func openTest(t testing.TB, dir string, opts Options) *Store {
	t.Helper()
	s, err := Open(dir, opts, testLogger(t))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return s
}

// TestSearchMatchesBruteForce is the property test: whatever the mix of
// head and parts, merged or reopened, Search returns what a scan of the
// appended records returns.
func TestSearchMatchesBruteForce(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"default caches", Options{BlockRecords: 50, MergeFanIn: 3}},
		// Caches far too small for the parts: every search reads index
		// chunks and reopens files, and the bounds must hold.
		{"tiny caches", Options{BlockRecords: 50, MergeFanIn: 3, IndexCacheBytes: 2 << 10, MaxOpenFiles: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) { testSearchMatchesBruteForce(t, tc.opts) })
	}
}

func testSearchMatchesBruteForce(t *testing.T, opts Options) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	dir := t.TempDir()
	s := openTest(t, dir, opts)
	var all []record.Record
	seq := uint64(0)
	appendN := func(n int) {
		recs := genRecords(rng, n, len(all))
		all = append(all, recs...)
		seq += uint64(n)
		s.Append(recs, seq)
	}

	appendN(800)
	checkQueries(t, "head only", s, all, rng, 60)
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.HeadRecords != 0 || st.Records != 800 || st.Partitions != 3*len(testTenants) {
		t.Fatalf("after flush: %+v", st)
	}
	checkQueries(t, "after flush", s, all, rng, 60)

	for range 4 {
		appendN(300)
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	appendN(200)
	checkQueries(t, "head plus parts", s, all, rng, 60)

	before := s.Stats()
	if err := s.Merge(ctx); err != nil {
		t.Fatal(err)
	}
	after := s.Stats()
	if after.Merges == 0 || after.Parts >= before.Parts {
		t.Fatalf("merge did nothing: before %+v after %+v", before, after)
	}
	checkQueries(t, "after merge", s, all, rng, 60)
	if st := s.Stats(); st.BlocksSkipped == 0 {
		t.Fatalf("no block was ever skipped: %+v", st)
	}

	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, dir, opts)
	defer s.Close()
	if s.DurableSeq() != seq {
		t.Fatalf("durable seq after reopen = %d, want %d", s.DurableSeq(), seq)
	}
	checkQueries(t, "after reopen", s, all, rng, 60)
	problems, err := s.Verify()
	if err != nil || len(problems) != 0 {
		t.Fatalf("verify: %v %v", problems, err)
	}
	if opts.MaxOpenFiles > 0 {
		st := s.Stats()
		if st.Files.Open > opts.MaxOpenFiles || st.Files.Closes == 0 || st.IndexCache.Evictions == 0 {
			t.Fatalf("tiny caches: files %+v, index cache %+v", st.Files, st.IndexCache)
		}
	}
}

func TestFlushOfWatermarkOnly(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, Options{})
	s.Append(nil, 42)
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := s.DurableSeq(); got != 42 {
		t.Fatalf("DurableSeq = %d, want 42", got)
	}
	if err := s.Flush(context.Background()); err != nil { // nothing to do
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, dir, Options{})
	defer s.Close()
	if got := s.DurableSeq(); got != 42 {
		t.Fatalf("DurableSeq after reopen = %d, want 42", got)
	}
}

func TestSearchStops(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{BlockRecords: 16})
	defer s.Close()
	recs := genRecords(rand.New(rand.NewPCG(1, 1)), 5000, 0)
	for i := range recs {
		recs[i].Tenant = ""
	}
	s.Append(recs[:2500], 1)
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.Append(recs[2500:], 2)
	stop := errors.New("stop")
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		fn   func(*record.Record) error
		want error
	}{
		{"fn error", context.Background(), func(*record.Record) error { return stop }, stop},
		{"cancelled", cancelled, func(*record.Record) error { return nil }, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.Search(tc.ctx, SearchRequest{}, tc.fn); !errors.Is(err, tc.want) {
				t.Fatalf("Search = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestSearchStats checks that Search reports its work: blocks read and
// skipped in parts, records scanned in the head, records matched.
func TestSearchStats(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{BlockRecords: 64})
	defer s.Close()
	recs := genRecords(rand.New(rand.NewPCG(7, 7)), 2000, 0)
	s.Append(recs, 1)
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.Append(genRecords(rand.New(rand.NewPCG(8, 8)), 500, 2000), 2)
	var st SearchStats
	req := SearchRequest{Tenant: testTenants[0], Filter: &testFilter{kind: "word", field: record.MessageField, word: "nosuchword"}, Stats: &st}
	n := len(searchAll(t, s, req))
	if n != 0 {
		t.Fatalf("matched %d records, want 0", n)
	}
	if st.Parts == 0 || st.Blocks == 0 || st.Partitions == 0 || st.BlocksSkippedIndex == 0 {
		t.Errorf("part stats not filled: %+v", st)
	}
	// Other tenants' partitions are neither searched nor counted: the
	// statistics (explain's) say nothing of them.
	if all := s.Stats().Partitions; st.Partitions >= int64(all) {
		t.Errorf("search counted %d partitions of the store's %d, want its tenant's only", st.Partitions, all)
	}
	if st.HeadRecords == 0 || st.HeadRecords > 500 {
		t.Errorf("head records = %d, want the tenant's share of 500", st.HeadRecords)
	}
	st = SearchStats{}
	req.Filter = nil
	n = len(searchAll(t, s, req))
	if st.RecordsMatched != int64(n) || st.BlocksRead == 0 || st.BytesRead == 0 {
		t.Errorf("stats %+v for %d matches", st, n)
	}
}

// TestAppendCopies checks that the head keeps its own copy: the caller may
// reuse its records and their strings' buffers once Append returns.
func TestAppendCopies(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{})
	defer s.Close()
	buf := []byte("original message")
	recs := []record.Record{{Time: testBase, Stream: []record.Field{{Name: "app", Value: "a"}},
		Message: string(buf), Fields: []record.Field{{Name: "z", Value: "1"}, {Name: "a", Value: "2"}}}}
	want := bruteForce(slices.Clone(recs), SearchRequest{})
	s.Append(recs, 1)
	recs[0].Message = "changed"
	recs[0].Stream[0].Value = "b"
	recs[0].Fields[0].Value = "9"
	if got := searchAll(t, s, SearchRequest{}); !slices.Equal(got, want) {
		t.Fatalf("head changed with the caller's records:\n got %v\nwant %v", got, want)
	}
}
