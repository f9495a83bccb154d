package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/record"
)

// TestIdleMerge checks when a partition's parts are merged into one: once
// it is idle, and only when the parts besides the largest hold at least
// as many bytes as it; the records stay exactly the same.
func TestIdleMerge(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(9, 9))
	// One day, so that every part falls in one partition.
	oneDay := func(n int) []record.Record {
		recs := genRecords(rng, n, 0)
		for i := range recs {
			recs[i].Tenant = ""
			recs[i].Time = testBase + int64(i)*1e6
		}
		return recs
	}
	for _, tc := range []struct {
		name      string
		idleAfter time.Duration
		sizes     []int // records per flushed part
		wait      bool  // let the partition become idle
		// quietAfter is Options.QuietAfter; when positive the test waits
		// twice as long, then appends records it does not flush if late
		// is set (mergePolicy.idle).
		quietAfter time.Duration
		late       bool
		wantParts  int
		pending    int // merges pending before the merge round
	}{
		{"idle, similar parts", 20 * time.Millisecond, []int{300, 300, 300}, true, 0, false, 1, 1},
		{"not yet idle", time.Hour, []int{300, 300, 300}, false, 0, false, 3, 1},
		{"one large part", 20 * time.Millisecond, []int{3000, 100, 100}, true, 0, false, 3, 0},
		{"turned off", -1, []int{300, 300, 300}, true, 0, false, 3, 0},
		{"the store went quiet", time.Hour, []int{300, 300, 300}, false, 20 * time.Millisecond, false, 1, 1},
		{"the store went quiet, then took records", time.Hour, []int{300, 300, 300}, false, 20 * time.Millisecond, true, 3, 1},
		{"the store went quiet, quiet turned off", time.Hour, []int{300, 300, 300}, false, -1, false, 3, 1},
		{"the store went quiet, final merge turned off", -1, []int{300, 300, 300}, false, 20 * time.Millisecond, false, 3, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t, t.TempDir(), Options{IdleMergeAfter: tc.idleAfter, QuietAfter: tc.quietAfter})
			defer s.Close()
			var all []record.Record
			seq := uint64(0)
			for _, n := range tc.sizes {
				recs := oneDay(n)
				seq += uint64(n)
				s.Append(recs, seq)
				if err := s.Flush(ctx); err != nil {
					t.Fatal(err)
				}
				all = append(all, recs...)
			}
			if tc.quietAfter > 0 {
				time.Sleep(2 * tc.quietAfter)
			}
			if tc.late {
				recs := oneDay(10)
				seq += 10
				s.Append(recs, seq)
				all = append(all, recs...)
			}
			before := searchAll(t, s, SearchRequest{})
			if got := s.Stats().MergesPending; got != tc.pending {
				t.Errorf("merges pending %d, want %d", got, tc.pending)
			}
			if tc.wait {
				time.Sleep(2 * tc.idleAfter)
			}
			if err := s.Merge(ctx); err != nil {
				t.Fatal(err)
			}
			st := s.Stats()
			if st.Parts != tc.wantParts {
				t.Fatalf("%d parts after the merge round, want %d", st.Parts, tc.wantParts)
			}
			if tc.wantParts == 1 && st.MergesPending != 0 {
				t.Errorf("merges pending %d after the merge", st.MergesPending)
			}
			after := searchAll(t, s, SearchRequest{})
			if len(after) != len(all) || !slices.Equal(before, after) {
				t.Fatalf("records changed by the merge: %d before, %d after", len(before), len(after))
			}
		})
	}
}

// TestMergeKeepsIdleClock: a merge's output counts as added when its
// newest input was, so that a tier merge running after a partition's last
// flush does not put off its final merge by another idle_merge_after.
func TestMergeKeepsIdleClock(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir(), Options{MergeFanIn: 2, IdleMergeAfter: time.Hour})
	defer s.Close()
	rng := rand.New(rand.NewPCG(5, 5))
	for i := range 2 {
		recs := genRecords(rng, 300, 0)
		for j := range recs {
			recs[j].Tenant = ""
			recs[j].Time = testBase + int64(j)*1e6
		}
		s.Append(recs, uint64(300*(i+1)))
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	newestAdded := func() (n int, newest time.Time) {
		s.mu.RLock()
		defer s.mu.RUnlock()
		for _, ps := range s.parts {
			for _, p := range ps {
				n++
				if p.added.After(newest) {
					newest = p.added
				}
			}
		}
		return n, newest
	}
	n, flushed := newestAdded()
	if n != 2 {
		t.Fatalf("%d parts flushed, want 2", n)
	}
	if err := s.Merge(ctx); err != nil {
		t.Fatal(err)
	}
	n, merged := newestAdded()
	if n != 1 {
		t.Fatalf("%d parts after the tier merge, want 1", n)
	}
	if !merged.Equal(flushed) {
		t.Errorf("the merged part counts as added at %v, its newest input at %v", merged, flushed)
	}
}

// TestIndexBytes checks the index memory account: parts count their
// index, and headers kept by a search add to it.
func TestIndexBytes(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{BlockRecords: 50})
	defer s.Close()
	recs := genRecords(rand.New(rand.NewPCG(4, 4)), 1000, 0)
	s.Append(recs, uint64(len(recs)))
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	before := s.Stats().IndexBytes
	if before <= 0 {
		t.Fatalf("index bytes %d after a flush", before)
	}
	searchAll(t, s, SearchRequest{})
	after := s.Stats().IndexBytes
	if after <= before {
		t.Fatalf("index bytes %d after a search kept the headers, %d before", after, before)
	}
	searchAll(t, s, SearchRequest{})
	if again := s.Stats().IndexBytes; again != after {
		t.Fatalf("index bytes %d after a second search, %d after the first: headers kept twice", again, after)
	}
}

// TestIndexBytesReleased: the index memory of many streams with many field
// names goes when their parts are merged away or dropped by retention,
// and the head's memory for them when they are flushed.
func TestIndexBytesReleased(t *testing.T) {
	ctx := context.Background()
	// Idle at once, so that Merge merges each partition's parts into one.
	s := openTest(t, t.TempDir(), Options{BlockRecords: 64, IdleMergeAfter: time.Nanosecond})
	defer s.Close()
	var seq uint64
	for round := range 3 {
		for day := range 2 {
			var recs []record.Record
			for i := range 200 {
				r := record.Record{Time: testBase + int64(day)*nsPerDay + int64(i),
					Stream: []record.Field{{Name: "app", Value: fmt.Sprintf("s%d", i)}}, Message: "m"}
				for j := range 10 {
					r.Fields = append(r.Fields, record.Field{Name: fmt.Sprintf("f%d_%d_%d", round, i, j), Value: "v"})
				}
				recs = append(recs, r)
			}
			seq += uint64(len(recs))
			s.Append(recs, seq)
		}
		if s.HeadBytes() == 0 {
			t.Fatal("the head holds nothing before its flush")
		}
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if hb := s.HeadBytes(); hb != 0 {
			t.Fatalf("head bytes %d after a flush", hb)
		}
	}
	flushed := s.Stats()
	if err := s.Merge(ctx); err != nil {
		t.Fatal(err)
	}
	merged := s.Stats()
	if merged.Parts >= flushed.Parts || merged.IndexBytes >= flushed.IndexBytes {
		t.Fatalf("merge: %d parts, %d index bytes; before %d, %d", merged.Parts, merged.IndexBytes, flushed.Parts, flushed.IndexBytes)
	}
	if err := s.DropBefore(ctx, time.Unix(0, testBase+nsPerDay)); err != nil {
		t.Fatal(err)
	}
	dropped := s.Stats()
	if dropped.Partitions != 1 || dropped.IndexBytes >= merged.IndexBytes*3/4 {
		t.Fatalf("retention: %d partitions, %d index bytes; before %d", dropped.Partitions, dropped.IndexBytes, merged.IndexBytes)
	}
	t.Logf("index bytes: %d after flushes, %d merged, %d with one of two days dropped", flushed.IndexBytes, merged.IndexBytes, dropped.IndexBytes)
}
