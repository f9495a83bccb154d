package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/sluice-log/sluice/internal/record"
)

// ErrSlowReader ends a subscription whose consumer fell further behind
// than its byte bound: ingest never waits for a live-tail client, and a
// client that does not keep up is dropped rather than buffered for without
// bound.
var ErrSlowReader = errors.New("live tail fell behind")

// ErrHubClosed ends the subscriptions of a pipeline that shuts down.
var ErrHubClosed = errors.New("live tail ended: the server is shutting down")

// Subscription receives every record stored after it was made, in batches,
// until it is closed, its pipeline shuts down, or it falls more than its
// byte bound behind (ErrSlowReader).
type Subscription struct {
	hub *hub
	max int64

	mu     sync.Mutex
	queue  []pending
	bytes  int64 // of the batches in queue
	err    error // why it ended; nil while it runs
	wake   chan struct{}
	done   chan struct{}
	closed bool
}

type pending struct {
	recs  []record.Record
	bytes int64
}

// Next returns the next batch, waiting for one; after the subscription
// ended it returns why (ErrSlowReader, ErrHubClosed, or errClosed after
// Close), and ctx's error when ctx ends first. The batch is shared with
// other subscribers: read it, do not change it.
func (s *Subscription) Next(ctx context.Context) ([]record.Record, error) {
	for {
		s.mu.Lock()
		if s.err != nil {
			err := s.err
			s.mu.Unlock()
			return nil, err
		}
		if len(s.queue) > 0 {
			b := s.queue[0]
			s.queue[0] = pending{}
			s.queue = s.queue[1:]
			s.bytes -= b.bytes
			s.mu.Unlock()
			s.hub.buffered.Add(-b.bytes)
			return b.recs, nil
		}
		s.mu.Unlock()
		select {
		case <-s.wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Done is closed when the subscription ends, for whatever reason; a
// consumer stuck writing to its client learns it there.
func (s *Subscription) Done() <-chan struct{} { return s.done }

// Buffered is the bytes of the batches waiting for the consumer.
func (s *Subscription) Buffered() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes
}

var errClosed = errors.New("live tail closed")

// Close ends the subscription; closing twice is harmless.
func (s *Subscription) Close() { s.hub.remove(s, errClosed) }

// end stops s with err, dropping what it buffered; the caller holds the
// hub's lock (or owns s).
func (s *Subscription) end(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.endLocked(err)
}

// endLocked is end with s.mu held.
func (s *Subscription) endLocked(err error) {
	if s.closed {
		return
	}
	s.closed = true
	s.err = err
	s.hub.buffered.Add(-s.bytes)
	s.queue, s.bytes = nil, 0
	close(s.done)
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// offer queues a batch of n bytes, or ends s when that would take it past
// its bound. A subscriber that has taken everything before may always get
// one more batch, whatever its size, so that a batch larger than the bound
// does not drop a subscriber that keeps up.
func (s *Subscription) offer(recs []record.Record, n int64) bool {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return true
	}
	if len(s.queue) > 0 && s.bytes+n > s.max {
		// Ended under the same lock that saw it open, so that of two
		// publishers racing past the bound only one drops it (and
		// counts the drop).
		behind := s.bytes + n
		defer s.mu.Unlock()
		s.endLocked(fmt.Errorf("%w: %d bytes of records were waiting for this client, over its bound of %d", ErrSlowReader, behind, s.max))
		return false
	}
	s.queue = append(s.queue, pending{recs: recs, bytes: n})
	s.bytes += n
	s.mu.Unlock()
	s.hub.buffered.Add(n)
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return true
}

type hub struct {
	mu       sync.RWMutex
	subs     map[*Subscription]struct{}
	n        atomic.Int32
	buffered atomic.Int64 // bytes queued for every subscriber
	dropped  atomic.Int64 // subscriptions ended by ErrSlowReader
	closed   bool
}

func newHub() *hub { return &hub{subs: map[*Subscription]struct{}{}} }

// subscribe starts a subscription that may fall maxBytes behind (at least
// one batch).
func (h *hub) subscribe(maxBytes int64) *Subscription {
	s := &Subscription{hub: h, max: maxBytes, wake: make(chan struct{}, 1), done: make(chan struct{})}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		s.end(ErrHubClosed)
		return s
	}
	h.subs[s] = struct{}{}
	h.n.Store(int32(len(h.subs)))
	return s
}

func (h *hub) remove(s *Subscription, why error) {
	h.mu.Lock()
	delete(h.subs, s)
	h.n.Store(int32(len(h.subs)))
	h.mu.Unlock()
	s.end(why)
}

// recordOverhead is what a record costs besides its strings: the struct
// and its field slices' headers.
const recordOverhead = int64(unsafe.Sizeof(record.Record{})) + 2*int64(unsafe.Sizeof(record.Field{}))

// publish hands a copy of recs to every subscriber without blocking; a
// subscriber that would go past its bound is dropped instead.
func (h *hub) publish(recs []record.Record) {
	if h.n.Load() == 0 {
		return
	}
	batch := make([]record.Record, len(recs))
	var n int64
	for i := range recs {
		batch[i] = recs[i].Clone()
		n += int64(recs[i].Size()) + recordOverhead
	}
	var slow []*Subscription
	h.mu.RLock()
	for s := range h.subs {
		if !s.offer(batch, n) {
			slow = append(slow, s)
		}
	}
	h.mu.RUnlock()
	for _, s := range slow {
		h.dropped.Add(1)
		h.remove(s, nil) // already ended with its reason
	}
}

func (h *hub) closeAll() {
	h.mu.Lock()
	subs := h.subs
	h.subs = map[*Subscription]struct{}{}
	h.closed = true
	h.n.Store(0)
	h.mu.Unlock()
	for s := range subs {
		s.end(ErrHubClosed)
	}
}
