package quota

import (
	"context"
	"net/http"
	"strconv"

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

// Gate refuses a tenant's HTTP ingest request before its body is read
// while the tenant is over its ingest quota: 429 with Retry-After, in
// the receiver's own answer shape (the refusal goes through
// ingest.OpenBody's error). It runs after the edge decided the tenant.
func (q *Quotas) Gate(h http.Handler) http.Handler {
	if q == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := tenant.Of(r)
		wait, over := q.Over(t)
		if !over {
			h.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Retry-After", strconv.Itoa(ingest.RetryAfterSeconds(wait)))
		ctx := ingest.WithRefusal(r.Context(), &ingest.RequestError{Status: http.StatusTooManyRequests,
			Err: &ingest.BackpressureError{RetryAfter: wait, Reason: overText(t, wait)}})
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}
