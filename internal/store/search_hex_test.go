package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/record"
)

// idFilter selects the records whose field holds every one of toks as a
// token, like the query engine's word filters, and answers TokenFilter
// with them. Its MayMatch says yes to every block, as a bloom filter's
// false positive does, so that every block holding the field is read.
type idFilter struct {
	field string
	toks  []string
}

func (f idFilter) Match(r *record.Record) bool {
	v, ok := r.Get(f.field)
	return ok && f.matchValue(v)
}

func (f idFilter) matchValue(v string) bool {
	for _, t := range f.toks {
		found := false
		record.Tokens(v, func(tok string) { found = found || tok == t })
		if !found {
			return false
		}
	}
	return true
}

// MatchValues looks for the first token in the whole column at once, as
// the query engine's word filters do, and asks matchValue about the
// values it is found in.
func (f idFilter) MatchValues(vs Values, match []bool) {
	clear(match)
	if len(f.toks) == 0 {
		for i, v := range vs.Values {
			match[i] = f.matchValue(v)
		}
		return
	}
	row, start := 0, 0 // the value at row starts at start
	for from := 0; ; {
		i := strings.Index(vs.Data[from:], f.toks[0])
		if i < 0 {
			return
		}
		for start+len(vs.Values[row]) <= from+i {
			start += len(vs.Values[row])
			row++
		}
		match[row] = f.matchValue(vs.Values[row])
		from = start + len(vs.Values[row])
		if from >= len(vs.Data) {
			return
		}
	}
}

func (f idFilter) MayMatch(BlockSummary) bool { return true }
func (f idFilter) MatchField() string         { return f.field }
func (f idFilter) WholeTokens() []string      { return f.toks }

// hexTestRecords makes 600 records, 50 trace ids among them, hex in
// most blocks of 64 records and not in some (an id of another length, or
// upper case); some records lack the field.
func hexTestRecords(seed uint64) ([]record.Record, []string) {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	ids := make([]string, 50)
	for i := range ids {
		ids[i] = fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64())
	}
	var recs []record.Record
	for i := range 600 {
		st := i % 3
		id := ids[rng.IntN(len(ids))]
		switch {
		case st == 1 && i%50 == 1:
			id = "0a1b" // another length: not hex in its block
		case st == 2 && i%70 == 2:
			id = strings.ToUpper(id)
		}
		r := record.Record{
			Time:    testBase + int64(i)*int64(time.Second),
			Stream:  []record.Field{{Name: "app", Value: "app" + strconv.Itoa(st)}},
			Message: "request " + strconv.Itoa(i),
		}
		if i%7 != 3 {
			r.Fields = []record.Field{{Name: "trace_id", Value: id}}
		}
		recs = append(recs, r)
	}
	return recs, ids
}

// hexTestStore stores hexTestRecords merged into one part.
func hexTestStore(t testing.TB) (*Store, []record.Record, []string) {
	recs, ids := hexTestRecords(71)
	s := openTest(t, t.TempDir(), Options{BlockRecords: 64, IdleMergeAfter: time.Nanosecond})
	s.Append(recs, 1)
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Merge(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s, recs, ids
}

// TestTokenProbeRulesOutBlocks: a search asks the blocks' bloom filters
// about a TokenFilter's tokens itself (tokenProbe), even of a filter whose
// MayMatch lets every block through (idFilter's), and finds what Match
// finds.
func TestTokenProbeRulesOutBlocks(t *testing.T) {
	s, recs, ids := hexTestStore(t)
	defer s.Close()
	for _, tc := range []struct {
		name string
		toks []string
		// inNoBlock: no block's trace_id holds a token, so the blooms
		// rule out every block but a false positive.
		inNoBlock bool
	}{
		{"an id", []string{ids[7]}, false},
		{"another id", []string{ids[30]}, false},
		{"an id in no record", []string{"00000000000000000000000000000000"}, true},
		{"two ids, in no one record", []string{ids[7], ids[8]}, false},
		{"a word of the message", []string{"request"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, _ := searchIDs(t, s, recs, tc.toks)
			if tc.inNoBlock && st.BlocksSkippedIndex < st.Blocks-1 {
				t.Fatalf("%d of %d blocks ruled out by the index, want all or all but one", st.BlocksSkippedIndex, st.Blocks)
			}
		})
	}
}

// searchIDs searches s for the records whose trace_id holds toks
// (idFilter), checks the answer against recs, and returns the search's
// statistics and the records that match.
func searchIDs(t *testing.T, s *Store, recs []record.Record, toks []string) (SearchStats, []string) {
	t.Helper()
	var st SearchStats
	req := SearchRequest{Filter: idFilter{field: "trace_id", toks: toks}, Stats: &st}
	got, want := searchAll(t, s, req), bruteForce(recs, req)
	if !slices.Equal(got, want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	return st, want
}

// bloomsPassAll empties the bloom filters of s's blocks in the index
// cache, where searches find them, so that every block is let through
// as a false positive is: the search reads it. (The store's test indexes
// stay in the cache; an empty filter rules nothing out.)
func bloomsPassAll(t testing.TB, s *Store) {
	t.Helper()
	forIndexChunks(t, s, func(_ *part, c *indexChunk) {
		for i := range c.metas {
			c.metas[i].bloom = ""
		}
	})
}

// TestHexColumnRejectsBlocks: a search whose filter names the tokens every
// match holds (TokenFilter) rules out, without decoding, a block read (here
// every block: bloomsPassAll, as false positives let a few through) whose hex
// column has no value of the token's bytes: every block read that holds
// no match, when the id is one; every hex block when the token cannot be
// a hex value. The answers are Match's either way.
func TestHexColumnRejectsBlocks(t *testing.T) {
	s, recs, ids := hexTestStore(t)
	defer s.Close()
	bloomsPassAll(t, s)
	hexBlocks := columnEncodings(t, s, "trace_id")[encHex]
	if hexBlocks < 5 {
		t.Fatalf("%d hex blocks, want several", hexBlocks)
	}
	absent := "00000000000000000000000000000000"
	for _, tc := range []struct {
		name string
		toks []string
		// rejected is how many blocks the search must rule out; -1: at
		// least one, fewer than the hex blocks.
		rejected int
	}{
		{"an id", []string{ids[7]}, -1},
		{"an id twice", []string{ids[7], ids[7]}, -1},
		{"an id in no record", []string{absent}, hexBlocks},
		{"two ids", []string{ids[7], ids[8]}, hexBlocks},
		{"a token of another length", []string{"0a1b"}, hexBlocks},
		{"an odd number of digits", []string{ids[7][:31]}, hexBlocks},
		{"not hex", []string{"request"}, hexBlocks},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, want := searchIDs(t, s, recs, tc.toks)
			if tc.rejected >= 0 && st.BlocksRejected != int64(tc.rejected) {
				t.Fatalf("%d blocks rejected, want %d (of %d read)", st.BlocksRejected, tc.rejected, st.BlocksRead)
			}
			if tc.rejected < 0 && (st.BlocksRejected == 0 || st.BlocksRejected >= int64(hexBlocks) || len(want) == 0) {
				t.Fatalf("%d of %d hex blocks rejected, %d records found", st.BlocksRejected, hexBlocks, len(want))
			}
		})
	}
	// A filter that names no tokens decides every row itself.
	var st SearchStats
	req := SearchRequest{Filter: idFilter{field: "trace_id"}, Stats: &st}
	if got, want := searchAll(t, s, req), bruteForce(recs, req); !slices.Equal(got, want) || st.BlocksRejected != 0 {
		t.Fatalf("no tokens: got %d records, want %d; %d blocks rejected", len(got), len(want), st.BlocksRejected)
	}
}

func TestHexWantHolds(t *testing.T) {
	id := "0123456789abcdef"
	for _, tc := range []struct {
		name string
		toks []string
		src  string // hex of the column's values, back to back
		w    int
		want bool
	}{
		{"first value", []string{"0123"}, "0123abcd", 2, true},
		{"last value", []string{"abcd"}, "0123abcd", 2, true},
		{"no value", []string{"4567"}, "0123abcd", 2, false},
		{"across two values", []string{"23ab"}, "0123abcd", 2, false},
		{"across, then aligned", []string{"2301"}, "01230123012301232301", 2, true},
		{"another width", []string{"01"}, "0123abcd", 2, false},
		{"one wide value", []string{id}, id, 8, true},
		{"tokens differ", []string{"0123", "abcd"}, "0123abcd", 2, false},
		{"upper case", []string{"ABCD"}, "0123abcd", 2, false},
		{"odd length", []string{"012"}, "0123abcd", 2, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHexWant("f", tc.toks)
			src := string(mustHex(t, tc.src))
			if got := h.holds(src, tc.w); got != tc.want {
				t.Fatalf("holds = %v, want %v", got, tc.want)
			}
		})
	}
	if h := newHexWant("f", nil); h.field != "" {
		t.Fatalf("no tokens: want %+v, want none", h)
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	var out []byte
	for i := 0; i+1 < len(s); i += 2 {
		b, err := strconv.ParseUint(s[i:i+2], 16, 8)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, byte(b))
	}
	return out
}

// matchOnly is an idFilter without TokenFilter: MatchValues decides every
// value of every block read, as it did before the store knew of tokens.
type matchOnly struct{ f idFilter }

func (m matchOnly) Match(r *record.Record) bool         { return m.f.Match(r) }
func (m matchOnly) MayMatch(b BlockSummary) bool        { return m.f.MayMatch(b) }
func (m matchOnly) MatchField() string                  { return m.f.field }
func (m matchOnly) MatchValues(vs Values, match []bool) { m.f.MatchValues(vs, match) }

// BenchmarkSearchHexID searches 64 blocks of 4096 records, each with a
// random 32-digit trace id, for the id of one record, with a filter that
// lets every block through, as the bloom filters' false positives do for
// a few blocks in a hundred: the blocks read that hold no match are what
// such a search spends its time on (46 blocks read for 3 records over
// 24 h of the 100M-record layout, 43 of them false positives).
func BenchmarkSearchHexID(b *testing.B) {
	rng := rand.New(rand.NewPCG(81, 82))
	const n = 64 * 4096
	recs := make([]record.Record, n)
	for i := range recs {
		recs[i] = record.Record{
			Time:    testBase + int64(i)*int64(time.Millisecond),
			Stream:  []record.Field{{Name: "app", Value: "app"}},
			Message: "request " + strconv.Itoa(i),
			Fields:  []record.Field{{Name: "trace_id", Value: fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64())}},
		}
	}
	id := recs[n/2].Fields[0].Value
	s := openTest(b, b.TempDir(), Options{BlockRecords: 4096})
	defer s.Close()
	s.Append(recs, 1)
	if err := s.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	bloomsPassAll(b, s)
	f := idFilter{field: "trace_id", toks: []string{id}}
	for _, bc := range []struct {
		name string
		f    Filter
	}{{"tokens", f}, {"match-only", matchOnly{f}}} {
		b.Run(bc.name, func(b *testing.B) {
			var st SearchStats
			req := SearchRequest{Filter: bc.f, Fields: []string{"trace_id"}, CountFields: []string{}, Stats: &st,
				Count: func(_ *record.Record, n int, _ []int64) error { return nil }}
			for b.Loop() {
				n := 0
				if err := s.Search(context.Background(), req, func(*record.Record) error { n++; return nil }); err != nil {
					b.Fatalf("search: %v", err)
				}
			}
			if st.RecordsMatched != int64(b.N) {
				b.Fatalf("%d records matched in %d searches", st.RecordsMatched, b.N)
			}
		})
	}
}

// TestFieldIndex checks both ways fieldIndex looks a name up: a scan of
// a few fields, a binary search of many.
func TestFieldIndex(t *testing.T) {
	for _, n := range []int{0, 1, 8, linearFieldScan, linearFieldScan + 1, 100} {
		m := blockMeta{}
		for i := range n {
			m.fields = append(m.fields, fmt.Sprintf("f%03d", i))
		}
		for i, f := range m.fields {
			if got := m.fieldIndex(f); got != i {
				t.Fatalf("%d fields: fieldIndex(%q) = %d, want %d", n, f, got, i)
			}
		}
		for _, f := range []string{"", "f", "f0000", "g000", "e999"} {
			if got := m.fieldIndex(f); got != -1 {
				t.Fatalf("%d fields: fieldIndex(%q) = %d, want -1", n, f, got)
			}
		}
	}
}

// BenchmarkMayContainToken is the probe a search makes of every block in
// its range: the field looked up among the block's, the token hashed, the
// bloom filter's bits tested.
func BenchmarkMayContainToken(b *testing.B) {
	fields := []string{"bytes", "latency_ms", "level", "method", "path", "status", "trace_id", "user_agent"}
	hashes := make([]uint64, 2000)
	for i := range hashes {
		hashes[i] = tokenHash("trace_id", fmt.Sprintf("%032x", i))
	}
	m := blockMeta{fields: fields, bloom: newBloom(hashes)}
	tok := fmt.Sprintf("%032x", 1<<40)
	for b.Loop() {
		if m.MayContainToken("trace_id", tok) && m.MayContainToken("trace_id", tok+"1") {
			b.Fatal("unlikely: two false positives")
		}
	}
}

// bloomIDFilter is idFilter with the MayMatch of the query engine's word
// filters: the block may hold the token, and has the field.
type bloomIDFilter struct{ idFilter }

func (f bloomIDFilter) MayMatch(b BlockSummary) bool {
	for _, t := range f.toks {
		if !b.MayContainToken(f.field, t) {
			return false
		}
	}
	return b.MayHaveField(f.field)
}

// BenchmarkSearchManyParts searches a layout like a live node's day
// partition before its merges: 48 flushed parts of 100 streams, 4,800
// small blocks of 100 records with a random trace id each and a dozen
// other fields, for one id (in one record; each search another of 8). The bloom filters rule out
// nearly every block, so the probes (the field looked up, the token
// hashed, the filter's bits tested, the filters too many for the CPU's
// caches) and the blocks their false positives read are the search's
// cost, as in the trace query over 24 h under ingest.
func BenchmarkSearchManyParts(b *testing.B) {
	rng := rand.New(rand.NewPCG(91, 92))
	const parts, streams, perBlock = 48, 100, 100
	s := openTest(b, b.TempDir(), Options{BlockRecords: 4096})
	defer s.Close()
	names := []string{"bytes", "duration", "hostname", "latency_ms", "level", "method", "path", "referrer", "status", "trace_id", "user_agent", "username"}
	var ids []string // one record's each, in 8 of the parts
	at := int64(0)
	for p := range parts {
		recs := make([]record.Record, 0, streams*perBlock)
		for i := range streams * perBlock {
			st := i % streams
			tr := fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64())
			if p%6 == 3 && i == streams*perBlock/2+p {
				ids = append(ids, tr)
			}
			fs := make([]record.Field, 0, len(names))
			for _, n := range names {
				v := n + strconv.Itoa(rng.IntN(50))
				if n == "trace_id" {
					v = tr
				}
				fs = append(fs, record.Field{Name: n, Value: v})
			}
			recs = append(recs, record.Record{
				Time:    testBase + at*int64(time.Millisecond),
				Stream:  []record.Field{{Name: "app", Value: "app" + strconv.Itoa(st)}},
				Message: "request " + strconv.Itoa(rng.IntN(1000)) + " served in " + strconv.Itoa(rng.IntN(500)) + " ms",
				Fields:  fs,
			})
			at++
		}
		s.Append(recs, 1)
		if err := s.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	var st SearchStats
	reqs := make([]SearchRequest, len(ids))
	for i, id := range ids {
		reqs[i] = SearchRequest{Filter: bloomIDFilter{idFilter{field: "trace_id", toks: []string{id}}}, Fields: []string{"trace_id"}, CountFields: []string{}, Stats: &st,
			Count: func(_ *record.Record, n int, _ []int64) error { return nil }}
	}
	cpu := reportCPU(b)
	k := 0
	for b.Loop() {
		if err := s.Search(context.Background(), reqs[k%len(reqs)], func(*record.Record) error { return nil }); err != nil {
			b.Fatalf("search: %v", err)
		}
		k++
	}
	cpu()
	if st.RecordsMatched != int64(b.N) {
		b.Fatalf("%d records matched in %d searches", st.RecordsMatched, b.N)
	}
	b.ReportMetric(float64(st.Blocks)/float64(b.N), "blocks/op")
	b.ReportMetric(float64(st.BlocksRead)/float64(b.N), "read/op")
}
