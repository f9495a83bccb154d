package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/cpuslot"
	"github.com/sluice-log/sluice/internal/record"
)

// TestCloseEndsSearches: Close ends the searches in flight rather than
// wait for them to run to their deadline, without waiting on them while
// it holds a lock they take. A search that finds a part damaged while the
// store closes quarantines it (which takes commitMu) and names it in its
// answer, and the next start still knows the part quarantined; a search
// with work left fails with errClosed instead of answering from part of
// the data without saying so, also when its workers stop as they wait for
// a CPU slot rather than at a unit's start.
func TestCloseEndsSearches(t *testing.T) {
	for _, tc := range []struct {
		name   string
		chunks int  // index chunks of the one part, each a unit of a worker's work
		damage bool // the part's second block, which the search reads after the store began to close
		// slots: the search holds the one slot of a pool of its own,
		// which its second worker and another search wait for: at its
		// first unit's end, the first worker hands the slot over and
		// waits for it, and the second stops waiting, as the search ends.
		slots bool
	}{
		{name: "a search that quarantines a part", chunks: 1, damage: true},
		{name: "a search with work left", chunks: 2*runtime.GOMAXPROCS(0) + 2},
		{name: "a search whose workers wait for a slot", chunks: 4, slots: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openTest(t, dir, Options{BlockRecords: 8})
			n := tc.chunks * chunkBlocks * 8
			recs := make([]record.Record, n)
			for i := range recs {
				recs[i] = record.Record{Time: testBase + int64(i)*int64(time.Millisecond),
					Stream: []record.Field{{Name: "app", Value: "a"}}, Message: fmt.Sprintf("line %d", i)}
			}
			s.Append(recs, 1)
			if err := s.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			var p *part
			for _, ps := range s.parts {
				for _, q := range ps {
					p = q
				}
			}
			mi, err := p.metaIndex()
			if err != nil || len(mi.chunks) != tc.chunks {
				t.Fatalf("part of %d chunks, want %d: %v", len(mi.chunks), tc.chunks, err)
			}
			id := p.ref().id()
			if tc.damage {
				c, err := p.chunk(mi, 0)
				if err != nil {
					t.Fatal(err)
				}
				data, err := os.ReadFile(p.path)
				if err != nil {
					t.Fatal(err)
				}
				data[c.metas[1].offset+1] ^= 0x40
				if err := os.WriteFile(p.path, data, 0o644); err != nil {
					t.Fatal(err)
				}
			}

			ctx := context.Background()
			if tc.slots {
				pool := cpuslot.New(1)
				hold := pool.NewHold(cpuslot.High)
				if err := hold.Reacquire(ctx); err != nil {
					t.Fatal(err)
				}
				ctx = cpuslot.WithHold(ctx, hold)
				other := pool.NewHold(cpuslot.High)
				go func() {
					if other.Reacquire(context.Background()) == nil {
						other.Release()
					}
				}()
				defer hold.Release()
			}

			// The search's first record waits until Close has begun.
			first, release := make(chan struct{}), make(chan struct{})
			searched := make(chan error, 1)
			var st SearchStats
			got := 0
			go func() {
				searched <- s.Search(ctx, SearchRequest{Stats: &st}, func(*record.Record) error {
					if got++; got == 1 {
						close(first)
						<-release
					}
					return nil
				})
			}()
			<-first
			closed := make(chan error, 1)
			go func() { closed <- s.Close() }()
			for {
				s.mu.RLock()
				closing := s.closed
				s.mu.RUnlock()
				if closing {
					break
				}
				time.Sleep(time.Millisecond)
			}
			if tc.slots {
				time.Sleep(2 * cpuslot.Slice) // the first worker's turn is over
			}
			close(release)
			select {
			case err := <-closed:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(time.Minute): // a deadlock, not a slow machine
				t.Fatal("Close and the search wait for each other")
			}
			err = <-searched
			skipped := []string{}
			for _, sk := range st.Skipped {
				skipped = append(skipped, sk.Partition+"/"+sk.Name)
			}
			if tc.damage {
				if err != nil || !slices.Equal(skipped, []string{id}) {
					t.Fatalf("search: %v, skipped %v; want %s skipped", err, skipped, id)
				}
				s := openTest(t, dir, Options{})
				defer func() { _ = s.Close() }()
				if qs := s.QuarantinedParts(); len(qs) != 1 || qs[0].ID != id {
					t.Fatalf("after a restart, quarantined %+v; want %s", qs, id)
				}
				return
			}
			if !errors.Is(err, errClosed) || got >= n {
				t.Fatalf("search: %v after %d of %d records; want %v before the end", err, got, n, errClosed)
			}
		})
	}
}
