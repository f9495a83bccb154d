package pipeline

import (
	"sync"
	"sync/atomic"

	"github.com/sluice-log/sluice/internal/record"
)

// Subscription receives every record stored after it was made. A consumer
// that falls behind loses batches rather than slowing ingest; Missed says how
// many records it lost so that it can tell its client.
type Subscription struct {
	C      <-chan []record.Record
	c      chan []record.Record
	missed atomic.Int64
	hub    *hub
}

// Missed returns and resets the number of records dropped for this
// subscriber since the last call.
func (s *Subscription) Missed() int64 { return s.missed.Swap(0) }

// Close ends the subscription.
func (s *Subscription) Close() { s.hub.remove(s) }

type hub struct {
	mu   sync.RWMutex
	subs map[*Subscription]struct{}
	n    atomic.Int32
}

func newHub() *hub { return &hub{subs: map[*Subscription]struct{}{}} }

func (h *hub) subscribe(buffer int) *Subscription {
	c := make(chan []record.Record, buffer)
	s := &Subscription{C: c, c: c, hub: h}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.n.Store(int32(len(h.subs)))
	h.mu.Unlock()
	return s
}

func (h *hub) remove(s *Subscription) {
	h.mu.Lock()
	if _, ok := h.subs[s]; ok {
		delete(h.subs, s)
		close(s.c)
	}
	h.n.Store(int32(len(h.subs)))
	h.mu.Unlock()
}

// publish hands a copy of recs to every subscriber without blocking.
func (h *hub) publish(recs []record.Record) {
	if h.n.Load() == 0 {
		return
	}
	batch := make([]record.Record, len(recs))
	for i := range recs {
		batch[i] = recs[i].Clone()
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	for s := range h.subs {
		select {
		case s.c <- batch:
		default:
			s.missed.Add(int64(len(batch)))
		}
	}
}

func (h *hub) closeAll() {
	h.mu.Lock()
	for s := range h.subs {
		delete(h.subs, s)
		close(s.c)
	}
	h.n.Store(0)
	h.mu.Unlock()
}
