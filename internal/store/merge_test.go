package store

import (
	"context"
	"testing"
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
