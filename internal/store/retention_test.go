package store

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/sluice-log/sluice/internal/record"
)

// TestDropOverSizeSustained ingests one day after another under a disk-size
// limit: after every round the store is within the limit, holds exactly the
// newest days that fit, and verifies clean.
func TestDropOverSizeSustained(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir(), Options{})
	defer s.Close()
	rng := rand.New(rand.NewPCG(3, 4))
	const day = int64(24 * 3600 * 1e9)
	var days [][]record.Record
	var limit int64
	for d := range 6 {
		recs := genRecords(rng, 3000, d*3000)
		for i := range recs {
			recs[i].Time = testBase + int64(d)*day + recs[i].Time%day
		}
		days = append(days, recs)
		s.Append(recs, uint64(d+1))
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if d == 0 {
			// Room for about two and a half days.
			limit = s.Stats().DiskBytes * 5 / 2
		}
		if _, err := s.DropOverSize(ctx, limit); err != nil {
			t.Fatal(err)
		}
		st := s.Stats()
		if st.DiskBytes > limit {
			t.Fatalf("round %d: %d bytes on disk over the limit of %d", d, st.DiskBytes, limit)
		}
		kept := min(d+1, 2)
		if st.Partitions != kept {
			t.Fatalf("round %d: %d partitions, want %d", d, st.Partitions, kept)
		}
		var want []record.Record
		for _, recs := range days[d+1-kept:] {
			want = append(want, recs...)
		}
		countAll(t, s, want)
		if ps, err := s.Verify(); err != nil || len(ps) != 0 {
			t.Fatalf("round %d: verify: %v %v", d, ps, err)
		}
	}
}

func TestDropOverSizeKeepsNewestPartition(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir(), Options{})
	defer s.Close()
	recs := genRecords(rand.New(rand.NewPCG(5, 6)), 2000, 0) // spans three days
	s.Append(recs, 1)
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		limit       int64
		wantDropped int
		wantParts   int
	}{
		{limit: 1 << 40, wantDropped: 0, wantParts: 3},
		{limit: 0, wantDropped: 2, wantParts: 1},
		{limit: 0, wantDropped: 0, wantParts: 1},
	} {
		n, err := s.DropOverSize(ctx, tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		if st := s.Stats(); n != tc.wantDropped || st.Partitions != tc.wantParts {
			t.Fatalf("limit %d: dropped %d, %d partitions left; want %d and %d", tc.limit, n, st.Partitions, tc.wantDropped, tc.wantParts)
		}
	}
}
