package ingest

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/promreg"
)

// ErrInFlightFull is what a request gets when the bytes that every
// receiver's requests in flight hold are at their bound (InFlight).
var ErrInFlightFull = errors.New("too many request bytes in flight")

// inFlightGrain is the least a reservation grows by while a body is read,
// so that reading one in small pieces does not cost an atomic operation
// per piece.
const inFlightGrain = 64 << 10

// InFlight bounds the bytes of request bodies (after decompression) and
// batches that all receivers hold at once, so that a flood of large
// concurrent requests is refused with 429 (or its protocol's equivalent)
// instead of running the process out of memory: each request may hold up
// to ingest.max_request_bytes, and nothing else bounds how many run.
//
// A request reserves its body's bytes before reading it when its size is
// known (Content-Length), and as it reads otherwise (a compressed body, a
// chunked one). The oldest HTTP request in flight, and a batch that holds
// everything in flight, are never refused: one request as large as
// max_request_bytes always goes through, and a flood of requests that all
// grow at once while they decompress cannot all refuse each other. So the
// bytes in flight stay within the limit plus one request.
// A nil *InFlight bounds nothing.
type InFlight struct {
	limit    int64
	used     atomic.Int64
	rejected *prometheus.CounterVec
	waits    chan struct{} // a token: serialises Acquire's waiters, each still bound by its ctx
	freed    chan struct{}

	mu    sync.Mutex
	order list.List // of *request, oldest first
}

// NewInFlight returns a bound of limit bytes (not positive: no bound) and
// registers its metrics with reg (when not nil).
func NewInFlight(limit int64, reg prometheus.Registerer) *InFlight {
	b := &InFlight{limit: limit, freed: make(chan struct{}, 1), waits: make(chan struct{}, 1),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_ingest_in_flight_rejected_total",
			Help: "Ingest requests (or batches) refused or held back because the request bytes in flight were at ingest.max_in_flight_bytes, by protocol.",
		}, []string{"protocol"})}
	if reg != nil {
		b.rejected = promreg.Register(reg, b.rejected)
		promreg.Register(reg, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "sluice_ingest_in_flight_bytes",
			Help: "Bytes of request bodies and batches that receivers hold now (after decompression).",
		}, func() float64 { return float64(b.Used()) }))
		promreg.Register(reg, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "sluice_ingest_max_in_flight_bytes",
			Help: "The bound on sluice_ingest_in_flight_bytes (ingest.max_in_flight_bytes).",
		}, func() float64 { return float64(b.Limit()) }))
	}
	return b
}

// Limit is the bound in bytes; 0 means none.
func (b *InFlight) Limit() int64 {
	if b == nil || b.limit <= 0 {
		return 0
	}
	return b.limit
}

// Full reports whether the bytes in flight are at the bound, so that a
// receiver may refuse a request before reading it.
func (b *InFlight) Full() bool {
	return b.Limit() > 0 && b.Used() >= b.limit
}

// Used is the bytes reserved now.
func (b *InFlight) Used() int64 {
	if b == nil {
		return 0
	}
	return b.used.Load()
}

// tryAdd reserves n bytes more for a holder that holds own already. It
// refuses only when the bound would be passed and others hold bytes too.
func (b *InFlight) tryAdd(n, own int64) bool {
	if b.Limit() == 0 {
		b.used.Add(n)
		return true
	}
	for {
		cur := b.used.Load()
		if cur+n > b.limit && cur != own {
			return false
		}
		if b.used.CompareAndSwap(cur, cur+n) {
			return true
		}
	}
}

func (b *InFlight) release(n int64) {
	if n == 0 {
		return
	}
	b.used.Add(-n)
	select {
	case b.freed <- struct{}{}:
	default:
	}
}

// Refused counts one request of protocol refused for the bound.
func (b *InFlight) Refused(protocol string) {
	if b != nil {
		b.rejected.WithLabelValues(protocol).Inc()
	}
}

// Batch is a reservation of a receiver that reads a stream (forward,
// syslog over TCP, gRPC): it holds the bytes of one batch at a time.
type Batch struct {
	b    *InFlight
	held int64
}

// TryAcquire reserves n bytes at once or refuses (counting protocol's
// refusal); a gRPC receiver answers its client that way.
func (b *InFlight) TryAcquire(protocol string, n int64) (*Batch, bool) {
	if b == nil {
		return &Batch{}, true
	}
	if !b.tryAdd(n, 0) {
		b.Refused(protocol)
		return nil, false
	}
	return &Batch{b: b, held: n}, true
}

// Acquire reserves n bytes, waiting while others hold too much: a stream
// receiver stops reading its socket meanwhile, which pushes back on the
// client as TCP does. It counts one refusal of protocol when it has to
// wait, and gives up with ctx.
func (b *InFlight) Acquire(ctx context.Context, protocol string, n int64) (*Batch, error) {
	if r, ok := b.tryAcquireQuiet(n); ok {
		return r, nil
	}
	b.Refused(protocol)
	// One waiter at a time, but a waiter behind another gives up with its
	// own ctx too: a stream receiver whose client left must not stay
	// blocked until the bytes another waiter waits for are freed.
	select {
	case b.waits <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for %d bytes of ingest.max_in_flight_bytes: %w", n, ctx.Err())
	}
	defer func() { <-b.waits }()
	tick := time.NewTicker(50 * time.Millisecond) // in case a wake-up was taken by another
	defer tick.Stop()
	for {
		if r, ok := b.tryAcquireQuiet(n); ok {
			return r, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for %d bytes of ingest.max_in_flight_bytes: %w", n, ctx.Err())
		case <-b.freed:
		case <-tick.C:
		}
	}
}

func (b *InFlight) tryAcquireQuiet(n int64) (*Batch, bool) {
	if b == nil {
		return &Batch{}, true
	}
	if !b.tryAdd(n, 0) {
		return nil, false
	}
	return &Batch{b: b, held: n}, true
}

// TryGrow reserves n bytes more for the batch, without waiting (a holder
// that waits could deadlock with another); false when refused.
func (r *Batch) TryGrow(n int64) bool {
	if r.b == nil {
		return true
	}
	if !r.b.tryAdd(n, r.held) {
		return false
	}
	r.held += n
	return true
}

// Release gives the batch's bytes back.
func (r *Batch) Release() {
	if r == nil || r.b == nil {
		return
	}
	r.b.release(r.held)
	r.held = 0
}

// request is an HTTP request's reservation, in its context.
type request struct {
	b        *InFlight
	protocol string
	held     int64 // reserved
	read     int64 // body bytes read (after decompression)
	refused  atomic.Bool
}

type requestKey struct{}

// Wrap makes h's requests account their bodies (read with OpenBody) to b,
// labelling refusals with protocol. A refused request is answered by h in
// its protocol's shape with 429 (ingest.RequestStatus), to which Wrap adds
// Retry-After. The request's bytes are released when h returns.
func (b *InFlight) Wrap(protocol string, h http.Handler) http.Handler {
	if b == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rq := &request{b: b, protocol: protocol}
		b.mu.Lock()
		elem := b.order.PushBack(rq)
		b.mu.Unlock()
		defer func() {
			b.mu.Lock()
			b.order.Remove(elem)
			b.mu.Unlock()
			b.release(rq.held)
		}()
		h.ServeHTTP(&retryAfterWriter{ResponseWriter: w, rq: rq}, r.WithContext(context.WithValue(r.Context(), requestKey{}, rq)))
	})
}

// oldest reports whether rq is the oldest HTTP request in flight.
func (b *InFlight) oldest(rq *request) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	front := b.order.Front()
	return front != nil && front.Value == rq
}

func requestOf(r *http.Request) *request {
	rq, _ := r.Context().Value(requestKey{}).(*request)
	return rq
}

// reserve makes the request hold at least total bytes; false when refused.
func (rq *request) reserve(total int64) bool {
	if rq == nil || total <= rq.held {
		return true
	}
	n := max(total-rq.held, inFlightGrain)
	if !rq.b.tryAdd(n, rq.held) {
		if !rq.b.oldest(rq) {
			rq.refused.Store(true)
			rq.b.Refused(rq.protocol)
			return false
		}
		rq.b.used.Add(n)
	}
	rq.held += n
	return true
}

// reserveBody reserves a body's known length up front (Content-Length: of
// an identity body, its size; of a compressed one, a lower bound), at most
// maxBytes: a compressed body's declared length is not bounded before it
// is read, and the oldest request, never refused, would otherwise hold
// whatever a client declares and keep every other request out.
func (rq *request) reserveBody(r *http.Request, maxBytes int64) error {
	if r.ContentLength > 0 && !rq.reserve(min(r.ContentLength, maxBytes)) {
		return rq.fullError()
	}
	return nil
}

// readMore accounts n more body bytes read.
func (rq *request) readMore(n int) error {
	if rq == nil || n == 0 {
		return nil
	}
	rq.read += int64(n)
	if !rq.reserve(rq.read) {
		return rq.fullError()
	}
	return nil
}

func (rq *request) fullError() error {
	return &RequestError{Status: http.StatusTooManyRequests,
		Err: fmt.Errorf("%w: the server holds %d of its %d bytes of request bodies in flight (ingest.max_in_flight_bytes); retry later",
			ErrInFlightFull, rq.b.Used(), rq.b.Limit())}
}

// retryAfterWriter adds Retry-After to the 429 of a request refused for
// the bound, whatever shape its protocol's answer has.
type retryAfterWriter struct {
	http.ResponseWriter
	rq *request
}

func (w *retryAfterWriter) WriteHeader(code int) {
	if code == http.StatusTooManyRequests && w.rq.refused.Load() && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "1")
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *retryAfterWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *retryAfterWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
