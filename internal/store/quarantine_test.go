package store

import (
	"context"
	"os"
	"slices"
	"testing"

	"github.com/sluice-log/sluice/internal/record"
)

// TestQuarantineOnRead damages a part while the store serves it: the first
// search that reads the damaged block takes the part out of service and
// moves its file to quarantine, without failing; every later search
// returns exactly the other parts' records.
func TestQuarantineOnRead(t *testing.T) {
	fx := newCrashFixture(t)
	s := openTest(t, fx.dir, Options{})
	defer s.Close()
	victim := fx.partsOfFirst[0]
	path := partPathOf(fx.dir, victim)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[partHeaderLen+1] ^= 0x40 // inside the first block's stored bytes
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}

	// Meet the damage: searches of every tenant, none of which may fail.
	for _, tenant := range testTenants {
		err := s.Search(context.Background(), SearchRequest{Tenant: tenant}, func(*record.Record) error { return nil })
		if err != nil {
			t.Fatalf("search of tenant %q failed instead of quarantining: %v", tenant, err)
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
}
