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

// TestFirstReadChecksSHA256: opening a store hashes nothing; a search
// hashes the parts it reads before it uses them, once each, and leaves
// the others to the scrubber, whose queue starts with the newest
// partition. A part altered where no read's xxhash64 looks (here the
// sha256 copy in its footer) is quarantined by its first read: the search
// answers from the other parts and names it with the sha256 mismatch.
func TestFirstReadChecksSHA256(t *testing.T) {
	fx := newCrashFixture(t)
	victim := fx.partsOfFirst[0]
	path := partPathOf(fx.dir, victim)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)-footerLen+24] ^= 0x01 // the footer's sha256, after offset, length and xxhash64
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	s := openTest(t, fx.dir, Options{})
	defer func() { _ = s.Close() }()
	if st := s.Stats(); st.PartsScrubbed != 0 || st.PartsUnverified != st.Parts {
		t.Fatalf("open hashed %d parts, left %d of %d unverified", st.PartsScrubbed, st.PartsUnverified, st.Parts)
	}
	// A search that ends before its parts are checked leaves them
	// unchecked, not quarantined.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Search(ctx, SearchRequest{Tenant: tenantOf(t, victim)}, func(*record.Record) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("a canceled search: %v", err)
	}
	if st := s.Stats(); st.PartsScrubbed != 0 || st.Quarantined != 0 {
		t.Fatalf("a canceled search hashed %d parts, quarantined %d", st.PartsScrubbed, st.Quarantined)
	}
	s.scrubMu.Lock()
	queue := append([]*part(nil), s.scrub.rest...)
	s.scrubMu.Unlock()
	if len(queue) < 3 || queue[0].partition < queue[len(queue)-1].partition {
		t.Fatalf("the queue does not start with the newest partition: %d parts", len(queue))
	}
	victimPartition := strings.Split(victim, "/")[0]
	var read *part
	for _, p := range slices.Backward(queue) {
		if p.partition != victimPartition {
			read = p
			break
		}
	}
	req := SearchRequest{Tenant: tenantOf(t, read.ref().id()), From: read.minTime, To: read.maxTime + 1}
	if rows := searchAll(t, s, req); len(rows) == 0 {
		t.Fatalf("search of %s found nothing", read.ref().id())
	}
	verified := 0
	for _, p := range queue {
		if p.verified.Load() {
			verified++
		}
	}
	st := s.Stats()
	if !read.verified.Load() || st.PartsScrubbed != int64(verified) || verified == len(queue) || st.ScrubFailures != 0 {
		t.Fatalf("a search of %s: %s verified %v, %d parts hashed, %d of %d verified, %d failures",
			read.ref().id(), read.ref().id(), read.verified.Load(), st.PartsScrubbed, verified, len(queue), st.ScrubFailures)
	}
	hashed := s.scrubBytes.Load()
	searchAll(t, s, req)
	if s.scrubBytes.Load() != hashed {
		t.Fatalf("a second search hashed %d bytes more", s.scrubBytes.Load()-hashed)
	}

	if got := skippedBy(t, s, SearchRequest{Tenant: tenantOf(t, victim)}); !slices.Equal(got, []string{victim}) {
		t.Fatalf("search over the altered part skipped %v, want %s", got, victim)
	}
	qs := s.QuarantinedParts()
	if len(qs) != 1 || qs[0].ID != victim || !strings.Contains(qs[0].Cause, "sha256") {
		t.Fatalf("QuarantinedParts() = %+v", qs)
	}
	countAll(t, s, fx.allBut(victim))
}
