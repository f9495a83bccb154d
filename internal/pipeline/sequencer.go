package pipeline

import "sync"

// sequencer lets batches that the WAL made durable in seq order enter the
// store in that same order, although the goroutines that wrote them wake up
// in any order. The store's durable watermark relies on it: a batch with
// higher seqs must never be flushed while a lower one is still outside.
type sequencer struct {
	mu     sync.Mutex
	cond   *sync.Cond
	next   uint64 // first seq of the batch allowed to apply next
	broken bool   // a WAL write failed; seqs may have gaps, nothing applies
}

func newSequencer(next uint64) *sequencer {
	s := &sequencer{next: next}
	s.cond = sync.NewCond(&s.mu)
	return s
}

// apply waits until every seq before first has been applied, runs fn, and
// lets the batch after last go. It reports false if the sequencer broke.
func (s *sequencer) apply(first, last uint64, fn func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.next != first && !s.broken {
		s.cond.Wait()
	}
	if s.broken {
		return false
	}
	fn()
	s.next = last + 1
	s.cond.Broadcast()
	return true
}

// breakDown stops all waiting and future applies.
func (s *sequencer) breakDown() {
	s.mu.Lock()
	s.broken = true
	s.cond.Broadcast()
	s.mu.Unlock()
}
