package store

import (
	"context"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sluice-log/sluice/internal/record"
)

func TestSpreadPresent(t *testing.T) {
	for _, tc := range []struct {
		name    string
		present []bool // per row: has the field
		answers []bool // per present row
		absent  bool
	}{
		{"all present", []bool{true, true, true}, []bool{true, false, true}, false},
		{"none present", []bool{false, false}, nil, true},
		{"gaps", []bool{false, true, false, false, true, true, false, true, false}, []bool{true, false, true, true}, false},
		{"gaps absent true", []bool{true, false, true, false, false, false, false, false, false, true}, []bool{false, false, true}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := len(tc.present)
			bitmap := make([]byte, (n+7)/8)
			var want []bool
			p := 0
			for row, has := range tc.present {
				if has {
					bitmap[row/8] |= 1 << (row % 8)
					want = append(want, tc.answers[p])
					p++
				} else {
					want = append(want, tc.absent)
				}
			}
			bm := string(bitmap)
			if !slices.Contains(tc.present, false) {
				bm = ""
			}
			rows := make([]bool, n)
			copy(rows, tc.answers)
			spreadPresent(rows, len(tc.answers), bm, tc.absent)
			if !slices.Equal(rows, want) {
				t.Fatalf("got %v, want %v", rows, want)
			}
		})
	}
}

// valuesWord is a word filter on one field (the message too) that
// answers MatchValues by asking Match per value and counts the values it
// was asked about that way, so a test sees that the store used it.
type valuesWord struct {
	*testFilter
	values *atomic.Int64
}

func (f valuesWord) MatchField() string { return f.field }

func (f valuesWord) MatchValues(vs Values, match []bool) {
	off := 0
	for i, v := range vs.Values {
		// The contract: back-to-back substrings of Data.
		if vs.Data[off:off+len(v)] != v {
			panic("values are not back to back in Data")
		}
		off += len(v)
		r := record.Record{Message: v, Fields: []record.Field{{Name: f.field, Value: v}}}
		match[i] = f.Match(&r)
	}
	if off != len(vs.Data) {
		panic("values do not cover Data")
	}
	f.values.Add(int64(len(vs.Values)))
}

// TestSearchValuesFilter checks that a ValuesFilter decides raw columns
// (with rows lacking the field) and the message column, and that the
// answers are those of a scan of the records.
func TestSearchValuesFilter(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(5, 6))
	s := openTest(t, t.TempDir(), Options{BlockRecords: 64})
	defer s.Close()
	recs := make([]record.Record, 600)
	for i := range recs {
		r := record.Record{Time: testBase + int64(i), Stream: []record.Field{{Name: "app", Value: "a"}},
			Message: randWords(rng, 1+rng.IntN(5)) + " #" + strconv.Itoa(i)}
		if rng.IntN(3) != 0 {
			r.Fields = []record.Field{{Name: "note", Value: randWords(rng, 1+rng.IntN(4)) + " " + strconv.Itoa(i)}}
		}
		recs[i] = r
	}
	s.Append(recs, uint64(len(recs)))
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{record.MessageField, "note"} {
		for _, word := range testVocab {
			var asked atomic.Int64
			f := valuesWord{&testFilter{kind: "word", field: field, word: strings.ToLower(word)}, &asked}
			want := 0
			for i := range recs {
				if f.Match(&recs[i]) {
					want++
				}
			}
			got := 0
			err := s.Search(ctx, SearchRequest{Filter: f}, func(*record.Record) error { got++; return nil })
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("%s:%s found %d records, a scan finds %d", field, word, got, want)
			}
			if asked.Load() == 0 {
				t.Fatalf("%s:%s: MatchValues was never called", field, word)
			}
		}
	}
}
