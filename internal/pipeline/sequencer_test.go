package pipeline

import (
	"math/rand/v2"
	"sync"
	"testing"
)

// TestSequencerOrders starts batches in a random order and checks that they
// apply strictly in seq order.
func TestSequencerOrders(t *testing.T) {
	const batches = 200
	s := newSequencer(1)
	type batch struct{ first, last uint64 }
	var all []batch
	next := uint64(1)
	for i := 0; i < batches; i++ {
		n := uint64(1 + i%7)
		all = append(all, batch{next, next + n - 1})
		next += n
	}
	order := rand.New(rand.NewPCG(3, 4)).Perm(batches)
	var mu sync.Mutex
	var applied []uint64
	var wg sync.WaitGroup
	for _, i := range order {
		b := all[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.apply(b.first, b.last, func() {
				mu.Lock()
				applied = append(applied, b.first)
				mu.Unlock()
			})
		}()
	}
	wg.Wait()
	for i, first := range applied {
		if first != all[i].first {
			t.Fatalf("batch %d applied with first seq %d, want %d", i, first, all[i].first)
		}
	}
}

func TestSequencerBreakReleasesWaiters(t *testing.T) {
	s := newSequencer(1)
	done := make(chan bool)
	go func() { done <- s.apply(5, 6, func() { t.Error("applied after a gap") }) }()
	s.breakDown()
	if <-done {
		t.Fatal("apply reported success on a broken sequencer")
	}
}
