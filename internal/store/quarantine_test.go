package store

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/record"
)

// damageFirstBlock flips a bit inside the first block's stored bytes of
// part id and returns the file's good bytes.
func damageFirstBlock(t *testing.T, dir, id string) []byte {
	t.Helper()
	path := partPathOf(dir, id)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	bad := slices.Clone(good)
	bad[partHeaderLen+1] ^= 0x40
	if err := os.WriteFile(path, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	return good
}

// tenantOf returns the test tenant whose partitions hold part id.
func tenantOf(t *testing.T, id string) string {
	t.Helper()
	for _, tenant := range testTenants {
		if partitionSuffix(strings.Split(id, "/")[0]) == tenantSuffix(tenant) {
			return tenant
		}
	}
	t.Fatalf("no test tenant owns %s", id)
	return ""
}

// skippedBy searches req and returns the parts its stats report skipped.
func skippedBy(t *testing.T, s *Store, req SearchRequest) []string {
	t.Helper()
	var st SearchStats
	req.Stats = &st
	if err := s.Search(context.Background(), req, func(*record.Record) error { return nil }); err != nil {
		t.Fatalf("search of tenant %q failed instead of quarantining: %v", req.Tenant, err)
	}
	var out []string
	for _, sk := range st.Skipped {
		if sk.Err == "" {
			t.Fatalf("skipped part %s/%s without a cause", sk.Partition, sk.Name)
		}
		out = append(out, sk.Partition+"/"+sk.Name)
	}
	return out
}

// TestQuarantineOnRead damages a part while the store serves it, after its
// sha256 was checked (so that the read's xxhash64 meets the damage, not the
// check before a first read): the first
// search that reads the damaged block takes the part out of service and
// moves its file to quarantine, without failing, and reports the part
// skipped; every later search returns exactly the other parts' records and
// still reports it while its time range covers the part's partition.
func TestQuarantineOnRead(t *testing.T) {
	fx := newCrashFixture(t)
	s := openTest(t, fx.dir, Options{})
	defer s.Close()
	if err := s.Scrub(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	victim := fx.partsOfFirst[0]
	damageFirstBlock(t, fx.dir, victim)
	owner := tenantOf(t, victim)

	// Meet the damage: searches of every tenant, none of which may fail;
	// only the owner's says what it skipped.
	for _, tenant := range testTenants {
		got := skippedBy(t, s, SearchRequest{Tenant: tenant})
		if want := []string{victim}; tenant != owner {
			want = nil
			if got != nil {
				t.Fatalf("tenant %q: skipped %v, want nothing", tenant, got)
			}
		} else if !slices.Equal(got, want) {
			t.Fatalf("tenant %q: skipped %v, want %v", tenant, got, want)
		}
	}
	if got := s.Quarantined(); !slices.Equal(got, []string{victim}) {
		t.Fatalf("Quarantined() = %v, want [%s]", got, victim)
	}
	if st := s.Stats(); st.Quarantined != 1 {
		t.Fatalf("Stats().Quarantined = %d", st.Quarantined)
	}
	if _, err := os.Stat(quarantinedPath(fx.dir, victim)); err != nil {
		t.Fatalf("quarantined file: %v", err)
	}
	rest := fx.allBut(victim)
	countAll(t, s, rest)
	// Merges and flushes carry on without the part.
	if err := s.Merge(context.Background()); err != nil {
		t.Fatal(err)
	}
	countAll(t, s, rest)

	// Later searches over its time range are partial; one that ends before
	// it or starts after it is not.
	var start, end int64
	for _, q := range s.quarantined {
		start, end = q.ref.MinTime, q.ref.MaxTime+1
	}
	if start == 0 || end <= start {
		t.Fatalf("quarantined part without its time range: [%d, %d)", start, end)
	}
	for _, tc := range []struct {
		from, to int64
		partial  bool
	}{
		{0, 0, true},
		{start, end, true},
		{end - 1, 0, true},
		{0, start, false},
		{end, 0, false},
	} {
		got := skippedBy(t, s, SearchRequest{Tenant: owner, From: tc.from, To: tc.to})
		if (got != nil) != tc.partial {
			t.Fatalf("search [%d, %d) of a part spanning [%d, %d): skipped %v, want partial=%v", tc.from, tc.to, start, end, got, tc.partial)
		}
	}
	qs := s.QuarantinedParts()
	if len(qs) != 1 || qs[0].ID != victim || !strings.Contains(qs[0].Cause, "checksum") {
		t.Fatalf("QuarantinedParts() = %+v", qs)
	}
}

// TestQuarantineDrop: an operator's drop commits a manifest entry, deletes
// the file and ends the partial answers; verify is clean again.
func TestQuarantineDrop(t *testing.T) {
	fx := newCrashFixture(t)
	victim := fx.partsOfFirst[0]
	damageFirstBlock(t, fx.dir, victim) // found on open
	s := openTest(t, fx.dir, Options{})
	defer s.Close()
	owner := tenantOf(t, victim)
	if got := skippedBy(t, s, SearchRequest{Tenant: owner}); !slices.Equal(got, []string{victim}) {
		t.Fatalf("skipped %v after a quarantine on open", got)
	}
	if err := s.DropQuarantined("20000101/0000000000000000"); !errors.Is(err, ErrNotQuarantined) {
		t.Fatalf("drop of an unknown part: %v", err)
	}
	if err := s.DropQuarantined(victim); err != nil {
		t.Fatal(err)
	}
	if got := skippedBy(t, s, SearchRequest{Tenant: owner}); got != nil {
		t.Fatalf("skipped %v after the drop", got)
	}
	if _, err := os.Stat(quarantinedPath(fx.dir, victim)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("dropped part's file: %v", err)
	}
	if ps, err := s.Verify(); err != nil || len(ps) != 0 {
		t.Fatalf("verify after the drop: %v %v", ps, err)
	}
	countAll(t, s, fx.allBut(victim))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, fx.dir, Options{})
	if n := len(s.Quarantined()); n != 0 {
		t.Fatalf("%d quarantined after reopening", n)
	}
	countAll(t, s, fx.allBut(victim))
}

// TestQuarantineRestore: a damaged file is refused; a good copy put in its
// place serves again, with every record.
func TestQuarantineRestore(t *testing.T) {
	fx := newCrashFixture(t)
	s := openTest(t, fx.dir, Options{})
	defer s.Close()
	victim := fx.partsOfFirst[0]
	good := damageFirstBlock(t, fx.dir, victim)
	owner := tenantOf(t, victim)
	if got := skippedBy(t, s, SearchRequest{Tenant: owner}); !slices.Equal(got, []string{victim}) {
		t.Fatalf("skipped %v", got)
	}
	if err := s.RestoreQuarantined(victim); err == nil || !strings.Contains(err.Error(), "does not match the manifest") {
		t.Fatalf("restore of the damaged file: %v", err)
	}
	if err := os.WriteFile(quarantinedPath(fx.dir, victim), good, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.RestoreQuarantined(victim); err != nil {
		t.Fatal(err)
	}
	if got := skippedBy(t, s, SearchRequest{Tenant: owner}); got != nil {
		t.Fatalf("skipped %v after the restore", got)
	}
	countAll(t, s, fx.all)
	if ps, err := s.Verify(); err != nil || len(ps) != 0 {
		t.Fatalf("verify after the restore: %v %v", ps, err)
	}
}
