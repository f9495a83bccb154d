package store

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

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

// TestScrubberAndReadsHashOnce: a read or a merge that meets a part the
// scrubber is hashing (paced, here at a byte a second, so that it waits
// after its first read for as long as the test runs) waits for the
// scrubber's hash, which stops pacing itself, rather than hashing the
// part again: every byte hashed belongs to a part checked once. A
// damaged part is still quarantined and named by the search that waited.
func TestScrubberAndReadsHashOnce(t *testing.T) {
	for _, tc := range []struct {
		name    string
		damaged bool
		merge   bool
	}{
		{name: "search"},
		{name: "merge", merge: true},
		{name: "search of a damaged part", damaged: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fx := newCrashFixture(t)
			victim := fx.partsOfFirst[0]
			if tc.damaged {
				path := partPathOf(fx.dir, victim)
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				data[len(data)-footerLen+24] ^= 0x01 // the footer's sha256 copy, which no read checks
				if err := os.WriteFile(path, data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			s := openTest(t, fx.dir, Options{MergeFanIn: 2}) // a partition of two parts merges
			defer func() { _ = s.Close() }()
			s.scrubMu.Lock()
			all := slices.Clone(s.scrub.rest)
			var p *part
			for _, q := range all {
				if tc.merge && q.ref().id() != victim && q.partition == strings.Split(victim, "/")[0] || !tc.merge && q.ref().id() == victim {
					p = q
				}
			}
			s.scrub.rest = []*part{p} // the scrubber hashes p alone
			s.scrubMu.Unlock()
			if p == nil {
				t.Fatal("no part to scrub")
			}

			ctx, cancel := context.WithCancel(context.Background())
			scrubbed := make(chan error, 1)
			go func() { scrubbed <- s.Scrub(ctx, 1) }()
			for s.scrubBytes.Load() == 0 {
				time.Sleep(time.Millisecond) // until the scrubber has read p's first bytes and waits
			}
			if tc.merge {
				if err := s.Merge(context.Background()); err != nil {
					t.Fatal(err)
				}
			} else {
				req := SearchRequest{Tenant: tenantOf(t, victim), From: p.minTime, To: p.maxTime + 1}
				got := skippedBy(t, s, req)
				if want := []string(nil); tc.damaged {
					if want = []string{victim}; !slices.Equal(got, want) || s.Stats().Quarantined != 1 {
						t.Fatalf("skipped %v, quarantined %d; want %v", got, s.Stats().Quarantined, want)
					}
				} else if len(got) != 0 {
					t.Fatalf("skipped %v", got)
				}
			}
			var hashed, checked int64
			for _, q := range all {
				q.checkMu.Lock()
				if q.verified.Load() || errors.Is(q.checkErr, errCorrupt) {
					hashed += q.size
					checked++
				}
				q.checkMu.Unlock()
			}
			st := s.Stats()
			if !p.verified.Load() && !tc.damaged || st.ScrubBytes != hashed || st.PartsScrubbed != checked {
				t.Fatalf("part %s verified %v; hashed %d bytes in %d parts, want %d bytes of %d parts checked once",
					p.ref().id(), p.verified.Load(), st.ScrubBytes, st.PartsScrubbed, hashed, checked)
			}
			if tc.damaged && st.ScrubFailures != 1 {
				t.Fatalf("%d scrub failures", st.ScrubFailures)
			}
			// The queue held p alone: the scrubber is done, not waiting.
			select {
			case err := <-scrubbed:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(time.Minute): // a scrubber still pacing itself, not a slow machine
				t.Fatal("the scrubber did not finish p once it was hurried")
			}
			cancel()
		})
	}
}
