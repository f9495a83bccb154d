package store

import (
	"context"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sluice-log/sluice/internal/record"
)

// TestConcurrentExactlyOnce appends, searches, flushes and merges at once.
// Every search must see each record appended before it started exactly
// once, and nothing that was never appended.
func TestConcurrentExactlyOnce(t *testing.T) {
	const (
		batches   = 60
		batchSize = 50
	)
	ctx := context.Background()
	s := openTest(t, t.TempDir(), Options{BlockRecords: 32, MergeFanIn: 2})
	defer s.Close()
	var appended atomic.Int64 // records appended so far; ids are 0..appended-1
	var flushes atomic.Int64
	var failed atomic.Bool
	// waitFor paces the appender so that flushes and merges interleave
	// with appends instead of all running after them.
	waitFor := func(cond func() bool) {
		for !cond() && !failed.Load() {
			runtime.Gosched()
		}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)

	wg.Add(1)
	go func() { // appender
		defer wg.Done()
		defer close(done)
		rng := rand.New(rand.NewPCG(3, 4))
		for b := range batches {
			recs := genRecords(rng, batchSize, b*batchSize)
			for i := range recs {
				recs[i].Tenant = "" // one tenant, so one search sees all
			}
			s.Append(recs, uint64((b+1)*batchSize))
			appended.Add(batchSize)
			if b%5 == 4 {
				n := flushes.Load()
				waitFor(func() bool { return flushes.Load() > n })
			}
			if b == batches/2 {
				waitFor(func() bool { return s.Stats().Merges > 0 })
			}
		}
	}()
	loop := func(f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				if err := f(); err != nil {
					failed.Store(true)
					errs <- err
					return
				}
			}
		}()
	}
	loop(func() error {
		err := s.Flush(ctx)
		flushes.Add(1)
		return err
	})
	loop(func() error { return s.Merge(ctx) })
	for range 2 {
		loop(func() error { return checkExactlyOnce(t, s, appended.Load()) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := checkExactlyOnce(t, s, batches*batchSize); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Merges == 0 {
		t.Fatalf("no merge ran: %+v", st)
	}
	if got := s.DurableSeq(); got != batches*batchSize {
		t.Fatalf("DurableSeq = %d", got)
	}
	if ps, err := s.Verify(); err != nil || len(ps) != 0 {
		t.Fatalf("verify: %v %v", ps, err)
	}
}

func checkExactlyOnce(t *testing.T, s *Store, atLeast int64) error {
	seen := make(map[int]int)
	err := s.Search(context.Background(), SearchRequest{}, func(r *record.Record) error {
		v, _ := r.Get("id")
		id, err := strconv.Atoi(v)
		if err != nil {
			t.Errorf("bad id %q", v)
		}
		seen[id]++
		return nil
	})
	if err != nil {
		return err
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("record %d seen %d times", id, n)
		}
	}
	for id := range int(atLeast) {
		if seen[id] == 0 {
			t.Errorf("record %d appended before the search was not seen", id)
			break
		}
	}
	return nil
}
