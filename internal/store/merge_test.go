package store

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/record"
)

// TestPlanMergeExclusive: parts that one merge reads are not planned into
// another, and a partition whose parts are being merged gets no final
// merge meanwhile; once released, the rest is merged and every record
// is still there once.
func TestPlanMergeExclusive(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir(), Options{MergeFanIn: 2, IdleMergeAfter: -1})
	defer s.Close()
	var all []string
	seq := uint64(0)
	flush := func(day, n int) {
		t.Helper()
		recs := oneDayRecords(seq+1, n, day)
		seq += uint64(n)
		s.Append(recs, seq)
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for range 4 {
		flush(0, 50) // day 0: four tier-0 parts
	}
	flush(1, 30) // day 1: two smaller ones
	flush(1, 30)
	all = searchAll(t, s, SearchRequest{})

	first, final, err := s.planMerge(MergeSmall)
	if err != nil || len(first) != 2 || final || first[0].partition != partitionOf("", testBase+nsPerDay) {
		t.Fatalf("first plan: %d parts of %v, final %v, err %v; want day 1's two parts", len(first), first, final, err)
	}
	second, _, err := s.planMerge(MergeSmall)
	if err != nil || len(second) != 4 || second[0].partition != partitionOf("", testBase) {
		t.Fatalf("second plan: %d parts, err %v; want day 0's four", len(second), err)
	}
	if third, _, err := s.planMerge(MergeSmall); err != nil || third != nil {
		t.Fatalf("third plan: %v, %v; want nothing while both are being merged", third, err)
	}
	if big, _, err := s.planMerge(MergeBig); err != nil || big != nil {
		t.Fatalf("big lane: %v, %v; want nothing", big, err)
	}
	if n := s.Stats().MergesPending; n != 2 {
		t.Errorf("merges pending %d while two run, want 2", n)
	}
	// Release both plans unmerged, as a failed merge does.
	s.mu.Lock()
	for _, p := range append(first, second...) {
		delete(s.merging, p)
	}
	s.mu.Unlock()
	for _, p := range append(first, second...) {
		p.decRef()
	}
	if err := s.Merge(ctx); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.Parts != 2 || st.MergesPending != 0 || st.Merges != 2 {
		t.Errorf("after merging: %d parts, %d pending, %d merges; want 2, 0, 2", st.Parts, st.MergesPending, st.Merges)
	}
	if st.MergedBytes <= 0 || st.FlushedBytes <= 0 {
		t.Errorf("flushed %d bytes, merged %d", st.FlushedBytes, st.MergedBytes)
	}
	if got := searchAll(t, s, SearchRequest{}); len(got) != len(all) {
		t.Fatalf("%d records after merging, %d before", len(got), len(all))
	}
}

// TestAssistMerges: the flusher merges only when a partition holds more
// parts than the policy's bound and one more tier, as when the background
// merges fall behind.
func TestAssistMerges(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir(), Options{MergeFanIn: 3, IdleMergeAfter: -1})
	defer s.Close()
	// Tiny parts are all tier 0: a bound of 2 parts, assists above 2+3.
	for i := range 6 {
		s.Append(oneDayRecords(uint64(i+1), 20, 0), uint64(i+1))
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		assisted, err := s.AssistMerges(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := i+1 == 6; assisted != want {
			t.Fatalf("after %d flushes: assisted %v, want %v", i+1, assisted, want)
		}
	}
	if st := s.Stats(); st.Parts != 1 || st.MergeAssists != 1 || st.Records != 120 {
		t.Errorf("after the assist: %d parts, %d assists, %d records; want 1, 1, 120", st.Parts, st.MergeAssists, st.Records)
	}
}

// TestMergeEncoderLevel: the small lane's tier merges compress at the
// flushes' level, its final merges and every merge of the big lane at the
// merge level, whose output stays.
func TestMergeEncoderLevel(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{})
	rng := rand.New(rand.NewPCG(1, 1))
	var sample []byte
	for range 4000 {
		sample = fmt.Appendf(sample, "GET /api/v%d/orders/%d %d in %dms\n", rng.IntN(3), rng.IntN(500), 200+rng.IntN(4)*100, rng.IntN(900))
	}
	at := map[int][]byte{}
	for _, level := range []int{defaultZstdLevel, defaultMergeZstdLevel} {
		enc, err := newEncoder(level, 1)
		if err != nil {
			t.Fatal(err)
		}
		at[level] = enc.EncodeAll(sample, nil)
		enc.Close()
	}
	if bytes.Equal(at[defaultZstdLevel], at[defaultMergeZstdLevel]) {
		t.Fatal("the sample compresses alike at both levels: the test cannot tell them apart")
	}
	for _, tc := range []struct {
		lane  MergeLane
		final bool
		level int
	}{
		{MergeSmall, false, defaultZstdLevel},
		{MergeSmall, true, defaultMergeZstdLevel},
		{MergeBig, false, defaultMergeZstdLevel},
		{MergeBig, true, defaultMergeZstdLevel},
	} {
		if got := s.mergeEncoder(tc.lane, tc.final).EncodeAll(sample, nil); !bytes.Equal(got, at[tc.level]) {
			t.Errorf("lane %s final %v: not compressed at level %d", tc.lane, tc.final, tc.level)
		}
	}
}

// TestSearchKeepsRetiredPartsAlive: a merge or a retention drop that
// removes the parts a search is reading, mid-search, takes nothing from
// under it: the search's workers read the parts its view holds a
// reference to, whose files the store deletes but keeps open for them
// (here with one open file at most, which the file cache would otherwise
// have closed), and the search answers every record once.
func TestSearchKeepsRetiredPartsAlive(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0)))) // two workers at least
	for _, tc := range []struct {
		name  string
		parts int // served once the parts are retired
		do    func(s *Store) error
	}{
		{"merge", 1, func(s *Store) error { return s.Merge(context.Background()) }},
		{"retention", 0, func(s *Store) error {
			return s.DropBefore(context.Background(), time.Unix(0, testBase).Add(48*time.Hour))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t, t.TempDir(), Options{BlockRecords: 8, MergeFanIn: 2, MaxOpenFiles: 1})
			defer s.Close()
			var recs []record.Record
			for f := range 2 {
				batch := make([]record.Record, 3*chunkBlocks*8)
				for i := range batch {
					batch[i] = record.Record{Time: testBase + int64(f*len(batch)+i)*int64(time.Millisecond),
						Stream: []record.Field{{Name: "app", Value: "a"}}, Message: fmt.Sprintf("line %d", f*len(batch)+i)}
				}
				s.Append(batch, uint64(f+1))
				if err := s.Flush(context.Background()); err != nil {
					t.Fatal(err)
				}
				recs = append(recs, batch...)
			}
			if st := s.Stats(); st.Parts != 2 {
				t.Fatalf("%d parts, want 2", st.Parts)
			}
			seen := make(map[string]int)
			var st SearchStats
			err := s.Search(context.Background(), SearchRequest{Stats: &st}, func(r *record.Record) error {
				if seen[r.Message]++; len(seen) == 1 {
					if err := tc.do(s); err != nil {
						t.Error(err)
					}
					if st := s.Stats(); st.Parts != tc.parts {
						t.Errorf("after the %s: %d parts, want %d", tc.name, st.Parts, tc.parts)
					}
				}
				return nil
			})
			if err != nil || len(seen) != len(recs) {
				t.Fatalf("search across a %s: %d of %d records, %v; skipped %+v", tc.name, len(seen), len(recs), err, st.Skipped)
			}
			for m, n := range seen {
				if n != 1 {
					t.Fatalf("%q seen %d times", m, n)
				}
			}
			if open := s.Stats().Files.Open; open > 1 {
				t.Errorf("%d files open once the search let go, want at most 1", open)
			}
		})
	}
}
