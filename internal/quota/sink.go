package quota

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/tenant"
)

// Sink charges every batch to its tenant's ingest quota before passing it
// on; a tenant over its quota gets backpressure (429 with Retry-After,
// forward's withheld ack, syslog's pause), the others go on.
type Sink struct {
	Next   ingest.Sink
	Quotas *Quotas
}

// Ingest implements ingest.Sink. A receiver's batch is one tenant's; a
// batch of several (none today) is charged to each.
func (s Sink) Ingest(ctx context.Context, recs []record.Record) error {
	if len(recs) == 0 {
		return s.Next.Ingest(ctx, recs)
	}
	if ctx.Value(chargedKey{}) != nil {
		// Gate charged the request's body before it was read.
		start := 0
		for i := range recs {
			if i == len(recs)-1 || recs[i+1].Tenant != recs[i].Tenant {
				s.Quotas.Count(recs[i].Tenant, i+1-start)
				start = i + 1
			}
		}
		return s.Next.Ingest(ctx, recs)
	}
	var refunds []func()
	start := 0
	for i := 1; i <= len(recs); i++ {
		if i < len(recs) && recs[i].Tenant == recs[start].Tenant {
			continue
		}
		var size int64
		for j := start; j < i; j++ {
			size += int64(recs[j].Size())
		}
		refund, wait, ok := s.Quotas.Charge(recs[start].Tenant, i-start, size)
		if !ok {
			for _, f := range refunds {
				f()
			}
			return &ingest.BackpressureError{RetryAfter: wait, Reason: overText(recs[start].Tenant, wait)}
		}
		refunds = append(refunds, refund)
		start = i
	}
	err := s.Next.Ingest(ctx, recs)
	if err != nil {
		for _, f := range refunds {
			f()
		}
	}
	return err
}

type chargedKey struct{}

// Gate charges a tenant's HTTP ingest request to its quota before its body
// is read: a request whose length is known (Content-Length) is charged
// those bytes at once, so that concurrent requests cannot all pass while
// the bucket still has tokens and then all be parsed; a request of unknown
// length or compressed is charged its records' bytes by Sink. A request of a tenant in
// debt is held (Hold, MaxHold, MaxHeld; the first held waits for the
// debt, the others their turn or their own hold) and then admitted if the
// debt is paid by then, else refused with 429 and Retry-After (when the
// budget is expected to allow it), in the receiver's own answer
// shape (the refusal goes through ingest.OpenBody's error), having cost
// nothing but its headers. It runs after the edge decided the tenant.
func (q *Quotas) Gate(h http.Handler) http.Handler {
	if q == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := tenant.Of(r)
		// A compressed body's length says little of what it holds: its
		// records are charged by Sink.
		size := r.ContentLength
		if size < 0 || r.Header.Get("Content-Encoding") != "" {
			size = 0
		}
		admit := func(count bool) (time.Duration, bool) {
			if size == 0 {
				wait, over := q.over(t, count)
				return wait, !over
			}
			_, wait, ok := q.charge(t, 0, size, true, count)
			if ok {
				r = r.WithContext(context.WithValue(r.Context(), chargedKey{}, true))
			}
			return wait, ok
		}
		// A request arriving while others of its tenant are held queues
		// behind them, even when the debt was just paid: the first of
		// them is about to be admitted, and taking the bucket from it
		// would refuse it at once, before any hold (a flooder's next
		// request comes as soon as its last is answered).
		wait, ahead := q.heldAhead(t)
		ok := false
		if !ahead {
			wait, ok = admit(false)
		}
		// Held, it is admitted only at its turn (the first of the queue),
		// if the debt is paid by then; a hold that ends before its turn
		// refuses it, since the bucket is the turn's.
		if !ok && !q.hold(r.Context(), t, size, func() { wait, ok = admit(true) }) {
			q.mu.Lock()
			q.refusedLocked(q.stateLocked(t))
			q.mu.Unlock()
		}
		if ok {
			h.ServeHTTP(w, r)
			return
		}
		// Retry after the held requests expected to be admitted, not just
		// the debt: a client that waits as told then finds room.
		wait = max(wait, q.until(t))
		w.Header().Set("Retry-After", strconv.Itoa(ingest.RetryAfterSeconds(wait)))
		// Closing the connection spares reading the unread body to keep
		// it alive (net/http would read up to 256 KiB of it).
		w.Header().Set("Connection", "close")
		ctx := ingest.WithRefusal(r.Context(), &ingest.RequestError{Status: http.StatusTooManyRequests,
			Err: &ingest.BackpressureError{RetryAfter: wait, Reason: overText(t, wait)}})
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}
