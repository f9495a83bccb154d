package store

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/record"
)

// TestHeadSharedFields: the fields every record of an appended run shares
// are kept once per head chunk, and records read back whole (all fields,
// or the ones a search needs, sorted by name) from the head and from
// parts, across chunk boundaries and runs of several tenants.
func TestHeadSharedFields(t *testing.T) {
	var recs []record.Record
	for i := range 6000 { // ~150 bytes a record: past one 256 KiB chunk
		r := record.Record{Time: int64(1_700_000_000_000_000_000 + i), Tenant: "a",
			Stream:  []record.Field{{Name: "host", Value: fmt.Sprint("h", i%3)}},
			Message: fmt.Sprintf("request %d %s", i, strings.Repeat("x", 60)),
			Fields: []record.Field{{Name: "_index", Value: "logs"}, {Name: "status", Value: fmt.Sprint(200 + i%5)},
				{Name: "agent", Value: "filebeat"}, {Name: "path", Value: fmt.Sprint("/p/", i)}}}
		if i >= 5000 {
			r.Tenant = "b"
		}
		if i == 999 {
			r.Fields = r.Fields[1:] // the first batch shares nothing
		}
		recs = append(recs, r)
	}
	s := openTest(t, t.TempDir(), Options{BlockRecords: 500})
	defer s.Close()
	s.Append(recs[:3000], 1)
	s.Append(recs[3000:], 2)
	if n := len(s.active.chunks); n < 3 {
		t.Fatalf("the head has %d chunks; the test wants a run across chunks", n)
	}
	// The second batch's records are stored without their shared fields.
	var c headCursor
	for _, hs := range s.active.list {
		for _, off := range hs.offs {
			c = cursorAt(s.active.chunks, off)
			c.skip()
		}
	}
	if back := c.uvarint(); back == 0 {
		t.Fatal("the last record appended does not refer to shared fields")
	}
	check := func(stage string) {
		t.Helper()
		for _, tenant := range []string{"a", "b"} {
			req := SearchRequest{Tenant: tenant}
			if got, want := searchAll(t, s, req), bruteForce(recs, req); !slices.Equal(got, want) {
				t.Fatalf("%s, tenant %s: %d records, want %d (first %q, want %q)", stage, tenant, len(got), len(want), got[:min(1, len(got))], want[:min(1, len(want))])
			}
			need := []string{"_index", "path"}
			var got, want []string
			err := s.Search(context.Background(), SearchRequest{Tenant: tenant, Fields: need}, func(r *record.Record) error {
				if !slices.IsSortedFunc(r.Fields, func(a, b record.Field) int { return strings.Compare(a.Name, b.Name) }) {
					t.Fatalf("%s: fields out of order: %v", stage, r.Fields)
				}
				got = append(got, project(r, need))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			for i := range recs {
				if recs[i].Tenant == tenant {
					want = append(want, project(&recs[i], need))
				}
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("%s, tenant %s, fields %v: %d records differ from %d", stage, tenant, need, len(got), len(want))
			}
		}
	}
	check("head")
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	check("parts")
}

// TestBlockBuilderShared: a block built from records whose shared fields
// are handed to add apart from their own is the block built from the
// whole records, byte for byte with the same index entry: constant runs,
// a run whose shared value changes within the block, records sharing
// nothing, and a record's own field of a shared field's name (its own
// wins, as it does when the head reads the record back whole).
func TestBlockBuilderShared(t *testing.T) {
	enc, err := newEncoder(1, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	type row struct {
		own    []record.Field
		shared []record.Field
	}
	idx := func(v string) []record.Field {
		return []record.Field{{Name: "_index", Value: v}, {Name: "agent", Value: "filebeat"}}
	}
	own := func(i int) []record.Field {
		return []record.Field{{Name: "status", Value: fmt.Sprint(200 + i%3)}, {Name: "path", Value: fmt.Sprint("/p/", i%7)}}
	}
	gen := func(n int, f func(i int) row) []row {
		rows := make([]row, n)
		for i := range rows {
			rows[i] = f(i)
		}
		return rows
	}
	for _, tc := range []struct {
		name string
		rows []row
	}{
		{"one run", gen(300, func(i int) row { return row{own(i), idx("alpha")} })},
		{"two runs, another value", gen(300, func(i int) row {
			if i < 120 {
				return row{own(i), idx("alpha")}
			}
			return row{own(i), idx("beta")}
		})},
		{"runs sharing nothing between", gen(300, func(i int) row {
			if i%100 < 40 {
				return row{append(own(i), idx("alpha")...), nil}
			}
			return row{own(i), idx("alpha")}
		})},
		{"own field of a shared name", gen(50, func(i int) row {
			o := own(i)
			if i == 7 {
				o = append(o, record.Field{Name: "_index", Value: "mine"})
			}
			return row{o, idx("alpha")}
		})},
		{"shared fields only", gen(20, func(i int) row { return row{nil, idx("alpha")} })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var apart, whole blockBuilder
			for i, rw := range tc.rows {
				r := record.Record{Time: int64(i) * 1e9, Stream: []record.Field{{Name: "app", Value: "x"}},
					Message: fmt.Sprint("request ", i%11), Fields: rw.own}
				full := r
				full.Fields = append(slices.Clone(rw.own), rw.shared...)
				if i == 0 {
					apart.reset(&r, "app")
					whole.reset(&full, "app")
				}
				apart.add(&r, rw.shared)
				whole.add(&full, nil)
			}
			var ma, mw blockMeta
			got := apart.encode(nil, &ma, &blockEncoder{enc: enc})
			want := whole.encode(nil, &mw, &blockEncoder{enc: enc})
			if string(got) != string(want) || ma.bloom != mw.bloom || !slices.Equal(ma.fields, mw.fields) || !slices.Equal(ma.ranges, mw.ranges) {
				t.Fatalf("the block built with shared fields apart differs from the one built from whole records (fields %v, want %v)", ma.fields, mw.fields)
			}
		})
	}
}

// TestBatchSharedFieldsParts: the fields every record of a batch shares
// go through the flush beside the records, not in each: a stream whose
// blocks hold one batch's run stores them as a constant column every row
// has (once per block), a stream whose block mixes runs of other values
// (a later batch that overrides the value, or a batch in which a later
// record carries another) stores them as any column; every record reads
// back whole and exact, and searches on the shared fields match exactly,
// from the head, the flushed parts and their merge (which hands a block's
// constant columns on the same way).
func TestBatchSharedFieldsParts(t *testing.T) {
	const base = int64(1_767_225_600) * 1e9 // 2026-01-01T00:00:00Z
	mk := func(stream string, i int, index string) record.Record {
		return record.Record{Time: base + int64(i)*1e9, Tenant: "t",
			Stream:  []record.Field{{Name: "app", Value: stream}},
			Message: fmt.Sprintf("request %d done", i),
			Fields: []record.Field{{Name: "_index", Value: index}, {Name: "agent", Value: "filebeat"},
				{Name: "status", Value: fmt.Sprint(200 + i%4)}}}
	}
	var batches [][]record.Record
	// Stream "one": two batches with one value, each its own block.
	// Stream "mixed": a batch with alpha, one whose later records carry
	// beta (nothing of _index shared in it), one with beta.
	for b := range 3 {
		var recs []record.Record
		for i := range 200 {
			n := b*200 + i
			recs = append(recs, mk("one", n, "alpha"))
			switch {
			case b == 0, b == 1 && i < 50:
				recs = append(recs, mk("mixed", n, "alpha"))
			default:
				recs = append(recs, mk("mixed", n, "beta"))
			}
		}
		batches = append(batches, recs)
	}
	var all []record.Record
	for _, b := range batches {
		all = append(all, b...)
	}
	s := openTest(t, t.TempDir(), Options{BlockRecords: 200, IdleMergeAfter: -1, noBlockCopy: true})
	defer s.Close()
	ctx := context.Background()
	filters := []*testFilter{
		nil,
		{kind: "word", field: "_index", word: "alpha"},
		{kind: "word", field: "_index", word: "beta"},
		{kind: "not", subs: []*testFilter{{kind: "word", field: "_index", word: "alpha"}}},
		{kind: "and", subs: []*testFilter{{kind: "word", field: "agent", word: "filebeat"}, {kind: "range", field: "status", lo: 201, hi: 202}}},
		{kind: "exists", field: "_index"},
	}
	check := func(stage string) {
		t.Helper()
		for _, f := range filters {
			req := SearchRequest{Tenant: "t"}
			if f != nil {
				req.Filter = f
			}
			got, want := searchAll(t, s, req), bruteForce(all, req)
			if !slices.Equal(got, want) {
				t.Fatalf("%s, filter %v: %d records, want %d", stage, f, len(got), len(want))
			}
		}
	}
	// constant lists, per stream, whether each of its blocks stores
	// _index as a constant column every row has.
	constant := func() map[string][]bool {
		out := map[string][]bool{}
		for _, p := range livePartsByName(s) {
			it := &partIter{p: p, s: s}
			for {
				ok, err := it.next()
				if err != nil {
					t.Fatal(err)
				}
				if !ok {
					break
				}
				if it.row != 1 {
					continue
				}
				name := it.rec.Stream[0].Value
				out[name] = append(out[name], slices.ContainsFunc(it.shared, func(f record.Field) bool { return f.Name == "_index" }))
			}
		}
		return out
	}
	for i, b := range batches {
		s.Append(b, uint64(i+1))
	}
	check("head")
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	check("flushed")
	if got, want := constant(), map[string][]bool{"one": {true, true, true}, "mixed": {true, false, true}}; !maps.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("constant _index per block: %v, want %v", got, want)
	}
	// A second flush of the same streams an hour later, and a merge that
	// re-adds every row (no block copied): the merged blocks of "one"
	// hold alpha only.
	for i, b := range batches {
		later := slices.Clone(b)
		for j := range later {
			later[j].Time += 3600e9
		}
		s.Append(later, uint64(10+i))
		all = append(all, later...)
	}
	check("second head")
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	parts := livePartsByName(s)
	if len(parts) < 2 {
		t.Fatalf("%d parts, want 2 to merge", len(parts))
	}
	if err := s.mergeParts(ctx, parts, s.menc); err != nil {
		t.Fatal(err)
	}
	check("merged")
	if got := constant()["one"]; !slices.Equal(got, []bool{true, true, true, true, true, true}) {
		t.Fatalf("constant _index per block of stream one after the merge: %v", got)
	}
}
