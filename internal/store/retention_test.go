package store

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/record"
)

// dayOfTenant returns n generated records of tenant spread over day d
// (days after testBase's day).
func dayOfTenant(rng *rand.Rand, n, firstID, d int, tenant string) []record.Record {
	recs := genRecords(rng, n, firstID)
	for i := range recs {
		recs[i].Time = testBase + int64(d)*nsPerDay + recs[i].Time%nsPerDay
		recs[i].Tenant = tenant
	}
	return recs
}

// TestDropOverSizeSustained ingests one day after another under a disk-size
// limit: after every round the store is within the limit, holds exactly the
// newest days that fit, and verifies clean.
func TestDropOverSizeSustained(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir(), Options{})
	defer s.Close()
	rng := rand.New(rand.NewPCG(3, 4))
	var days [][]record.Record
	var limit int64
	for d := range 6 {
		recs := dayOfTenant(rng, 3000, d*3000, d, "")
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

// TestDropOverSizeKeepsNewestPartition checks that the store-wide limit
// takes the oldest partitions across tenants but never a tenant's newest.
func TestDropOverSizeKeepsNewestPartition(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir(), Options{})
	defer s.Close()
	recs := genRecords(rand.New(rand.NewPCG(5, 6)), 2000, 0) // three tenants over three days
	s.Append(recs, 1)
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		limit       int64
		wantDropped int
		wantParts   int
	}{
		{limit: 1 << 40, wantDropped: 0, wantParts: 9},
		{limit: 0, wantDropped: 0, wantParts: 9}, // 0: no bound
		{limit: 1, wantDropped: 6, wantParts: 3},
		{limit: 1, wantDropped: 0, wantParts: 3},
	} {
		n, err := s.DropOverSize(ctx, tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		if st := s.Stats(); n != tc.wantDropped || st.Partitions != tc.wantParts {
			t.Fatalf("limit %d: dropped %d, %d partitions left; want %d and %d", tc.limit, n, st.Partitions, tc.wantDropped, tc.wantParts)
		}
	}
	var want []record.Record
	for _, r := range recs {
		if dayOf(r.Time) == dayOf(testBase)+2 {
			want = append(want, r)
		}
	}
	countAll(t, s, want)
}

// TestTenantPartitions checks that a flush writes one partition per tenant
// and day, named as partition.go says, and that a search reads only its
// tenant's partitions.
func TestTenantPartitions(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openTest(t, dir, Options{})
	rng := rand.New(rand.NewPCG(9, 10))
	long := strings.Repeat("x", maxHexTenant+1)
	var all []record.Record
	for i, tenant := range []string{"", "acme", "a/../b", long} {
		all = append(all, dayOfTenant(rng, 200, i*200, 0, tenant)...)
	}
	s.Append(all, 1)
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	names, err := os.ReadDir(filepath.Join(dir, partitionsDir))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range names {
		got = append(got, e.Name())
	}
	want := []string{"20260101", "20260101" + tenantSuffix(long), "20260101.t612f2e2e2f62", "20260101.t61636d65"}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("partition directories %v, want %v", got, want)
	}
	for _, tenant := range []string{"", "acme", "a/../b", long, "nobody"} {
		var st SearchStats
		req := SearchRequest{Tenant: tenant, Stats: &st}
		if got, want := searchAll(t, s, req), bruteForce(all, req); !slices.Equal(got, want) {
			t.Fatalf("tenant %q: got %d records, want %d", tenant, len(got), len(want))
		}
		searched := st.Partitions - st.PartitionsSkipped
		if wantSearched := int64(min(1, len(bruteForce(all, req)))); searched != wantSearched {
			t.Fatalf("tenant %q: searched %d partitions, want %d (stats %+v)", tenant, searched, wantSearched, st)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Leftovers of an interrupted flush in a tenant's partition are
	// garbage that Open removes; the manifest's partition names pass its
	// validation on replay.
	acmeDir := filepath.Join(dir, partitionsDir, partitionOf("acme", testBase))
	for _, name := range []string{"00000000000000ff.part", "00000000000000fe.part.tmp"} {
		if err := os.WriteFile(filepath.Join(acmeDir, name), []byte("junk"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if ps, err := Verify(dir); err != nil || len(ps) != 1 || ps[0].Kind != ProblemUnreferenced {
		t.Fatalf("verify with a stray part: %v %v", ps, err)
	}
	s = openTest(t, dir, Options{})
	defer s.Close()
	if st := s.Stats(); st.Partitions != 4 || st.Records != int64(len(all)) {
		t.Fatalf("after reopen: %+v", st)
	}
	for _, name := range []string{"00000000000000ff.part", "00000000000000fe.part.tmp"} {
		if _, err := os.Stat(filepath.Join(acmeDir, name)); !os.IsNotExist(err) {
			t.Errorf("garbage %s survived Open: %v", name, err)
		}
	}
	if ps, err := s.Verify(); err != nil || len(ps) != 0 {
		t.Fatalf("verify: %v %v", ps, err)
	}
}

// TestApplyRetentionPerTenant drops one tenant's old partitions and leaves
// the other tenants' partitions of the same days alone.
func TestApplyRetentionPerTenant(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openTest(t, dir, Options{})
	defer s.Close()
	recs := genRecords(rand.New(rand.NewPCG(11, 12)), 3000, 0) // three tenants over three days
	s.Append(recs, 1)
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// As of the end of the third day, acme keeps one day and globex two;
	// the default tenant keeps everything.
	now := time.Unix(0, testBase+3*nsPerDay)
	r := Retention{Tenants: map[string]TenantRetention{
		"acme":   {MaxAge: 24 * time.Hour},
		"globex": {MaxAge: 48 * time.Hour},
	}}
	n, err := s.ApplyRetention(ctx, now, r)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Fatalf("dropped %d partitions, want 3", n)
	}
	keep := map[string]int64{"": 0, "acme": 2, "globex": 1} // first day kept
	var want []record.Record
	for _, rec := range recs {
		if dayOf(rec.Time)-dayOf(testBase) >= keep[rec.Tenant] {
			want = append(want, rec)
		}
	}
	countAll(t, s, want)
	if n, err := s.ApplyRetention(ctx, now, r); err != nil || n != 0 {
		t.Fatalf("second round dropped %d, %v", n, err)
	}
	if ps, err := s.Verify(); err != nil || len(ps) != 0 {
		t.Fatalf("verify: %v %v", ps, err)
	}
	// One drop entry per tenant, naming it.
	var reasons []string
	for _, l := range parseManifest(mustRead(t, filepath.Join(dir, manifestName))) {
		if l.entry.Op == opDrop {
			reasons = append(reasons, l.entry.Reason)
			for _, ref := range l.entry.Removed {
				if !strings.Contains(l.entry.Reason, tenantLabel(partitionSuffix(ref.Partition))) {
					t.Errorf("drop entry %q removes part %s", l.entry.Reason, ref.id())
				}
			}
		}
	}
	wantReasons := []string{
		`retention: tenant "acme" partitions ending before 2026-01-03T00:00:00Z`,
		`retention: tenant "globex" partitions ending before 2026-01-02T00:00:00Z`,
	}
	if !slices.Equal(reasons, wantReasons) {
		t.Fatalf("drop reasons %q, want %q", reasons, wantReasons)
	}
}

// TestTenantSizeSustained ingests one day after another for two tenants,
// one of them under a size limit: after every round that tenant holds
// exactly its newest days that fit, and the other keeps everything.
func TestTenantSizeSustained(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir(), Options{})
	defer s.Close()
	rng := rand.New(rand.NewPCG(13, 14))
	var acme, other [][]record.Record
	var limit int64
	r := Retention{Tenants: map[string]TenantRetention{}}
	for d := range 6 {
		a := dayOfTenant(rng, 3000, 2*d*3000, d, "acme")
		o := dayOfTenant(rng, 3000, (2*d+1)*3000, d, "")
		acme, other = append(acme, a), append(other, o)
		s.Append(append(slices.Clone(a), o...), uint64(d+1))
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if d == 0 {
			// Room for about two and a half of acme's days.
			limit = s.Stats().DiskBytes / 2 * 5 / 2
			r.Tenants["acme"] = TenantRetention{MaxBytes: limit}
		}
		if _, err := s.ApplyRetention(ctx, time.Unix(0, testBase), r); err != nil {
			t.Fatal(err)
		}
		var acmeBytes int64
		partitions := 0
		for _, ref := range s.man.state.live {
			if partitionSuffix(ref.Partition) == tenantSuffix("acme") {
				acmeBytes += ref.Size
				partitions++
			}
		}
		kept := min(d+1, 2)
		if acmeBytes > limit || partitions != kept {
			t.Fatalf("round %d: acme has %d partitions of %d bytes, want %d within %d", d, partitions, acmeBytes, kept, limit)
		}
		var want []record.Record
		for _, recs := range acme[d+1-kept:] {
			want = append(want, recs...)
		}
		for _, recs := range other {
			want = append(want, recs...)
		}
		countAll(t, s, want)
		if ps, err := s.Verify(); err != nil || len(ps) != 0 {
			t.Fatalf("round %d: verify: %v %v", d, ps, err)
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// BenchmarkDropPartition measures dropping one tenant's day of records
// while another tenant's day stays: the cost should not grow with the
// records dropped (one manifest entry, then file deletions).
func BenchmarkDropPartition(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			ctx := context.Background()
			s := openTest(b, b.TempDir(), Options{})
			defer s.Close()
			rng := rand.New(rand.NewPCG(17, 18))
			keep := dayOfTenant(rng, 1000, 0, 0, "globex")
			s.Append(keep, 1)
			recs := dayOfTenant(rng, n, 1000, 0, "acme")
			r := Retention{Tenants: map[string]TenantRetention{"acme": {MaxAge: time.Hour}}}
			now := time.Unix(0, testBase+2*nsPerDay)
			for i := range b.N {
				b.StopTimer()
				s.Append(recs, uint64(i+2))
				if err := s.Flush(ctx); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if got, err := s.ApplyRetention(ctx, now, r); err != nil || got != 1 {
					b.Fatalf("dropped %d partitions: %v", got, err)
				}
			}
		})
	}
}
