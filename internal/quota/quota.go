// Package quota bounds what each tenant may take, so that one tenant's
// flood never starves the others: ingest bytes per second (a token bucket
// per tenant, refused with backpressure for that tenant only), queries
// running at once and records one query may scan. It counts per tenant in
// Prometheus metrics and in Status.
//
// It knows tenants, records and the ingest acknowledgement contract; it
// must not know protocols, keys or the store.
package quota

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/connlimit"
)

// Limits are one tenant's quotas; 0 is no bound.
type Limits struct {
	IngestBytesPerSecond int64
	IngestBurstBytes     int64
	QueryMaxConcurrent   int
	QueryMaxScanned      int64
}

// burst is the bucket's depth: as configured, else one second of the
// rate and at least 1 MiB, so that one ordinary request always fits.
func (l Limits) burst() float64 {
	if l.IngestBurstBytes > 0 {
		return float64(l.IngestBurstBytes)
	}
	return float64(max(l.IngestBytesPerSecond, 1<<20))
}

// maxLabels bounds the tenants that get a label of their own in the
// metrics; the rest share OtherLabel. With authentication off a client
// names any tenant, and must not grow the metrics without bound.
const maxLabels = 1000

// OtherLabel is the tenant label of tenants past maxLabels.
const OtherLabel = "_other"

// Quotas holds every tenant's state.
type Quotas struct {
	limits func(tenant string) Limits
	now    func() time.Time

	// Hold is how long Gate holds an HTTP ingest request of a tenant over
	// its quota, at least, before it refuses it (429); it admits it as
	// soon as the tenant's bucket allows it. A flooder that retries at
	// once then sends one request per connection per hold, not thousands,
	// each of which would cost the server a request's handling. 0 answers
	// at once. Set before use.
	Hold time.Duration
	// MaxHold, above Hold, makes the hold follow the tenant's debt: a
	// request is held until the bucket, after the held requests before
	// it that are expected to be admitted, allows it, up to MaxHold; one
	// that would wait longer is held about MaxHold (3/4 of it to all) and
	// refused with Retry-After the time its turn is expected. So the
	// deeper a flood, the longer its connections are held and the fewer
	// refusals it costs (one per connection per MaxHold instead of per
	// Hold), while a tenant a little over its quota waits only what it
	// owes. Not above Hold: every hold is Hold (3/4 of it to all).
	MaxHold time.Duration
	// MaxHeld bounds the requests held at once per tenant (0: no bound);
	// past it a request is answered at once. A held request's connection
	// counts as idle for the listener's connection bound (connlimit), so
	// that one tenant's held connections cannot take every connection slot
	// whatever MaxHeld is.
	MaxHeld int

	mu      sync.Mutex
	tenants map[string]*state

	ingestBytes   *prometheus.CounterVec
	ingestRecords *prometheus.CounterVec
	rejected      *prometheus.CounterVec
	running       *prometheus.GaugeVec
	scanned       *prometheus.CounterVec
}

type state struct {
	label   string
	tokens  float64
	at      time.Time
	running int
	// queue holds the tenant's held requests in arrival order; only the
	// first waits for the debt to be paid (see hold).
	queue []*heldRequest
	// Totals for Status.
	bytes, records, refusedIngest, refusedQueries, scanned int64
}

// New returns quotas with each tenant's limits from limits, registering
// the per-tenant metrics with reg.
func New(limits func(tenant string) Limits, reg prometheus.Registerer) *Quotas {
	q := &Quotas{
		limits:  limits,
		now:     time.Now,
		tenants: map[string]*state{},
		ingestBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_tenant_ingest_bytes_total", Help: "Record bytes ingested per tenant (as charged to its ingest quota).",
		}, []string{"tenant"}),
		ingestRecords: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_tenant_ingest_records_total", Help: "Records ingested per tenant.",
		}, []string{"tenant"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_tenant_quota_rejected_total", Help: "Requests refused because their tenant was over a quota (ingest_bytes, query_concurrency).",
		}, []string{"tenant", "quota"}),
		running: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sluice_tenant_queries_running", Help: "Queries running per tenant.",
		}, []string{"tenant"}),
		scanned: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_tenant_query_scanned_records_total", Help: "Records decoded by the queries of each tenant (their cost).",
		}, []string{"tenant"}),
	}
	if reg != nil {
		reg.MustRegister(q.ingestBytes, q.ingestRecords, q.rejected, q.running, q.scanned)
	}
	return q
}

// stateLocked returns tenant's state, creating it with a full bucket.
func (q *Quotas) stateLocked(tenant string) *state {
	st := q.tenants[tenant]
	if st == nil {
		label := tenant
		if len(q.tenants) >= maxLabels {
			label = OtherLabel
		}
		st = &state{label: label, tokens: q.limits(tenant).burst(), at: q.now()}
		q.tenants[tenant] = st
	}
	return st
}

// refillLocked adds what the rate earned since the last look.
func (st *state) refillLocked(l Limits, now time.Time) {
	if l.IngestBytesPerSecond <= 0 {
		return
	}
	dt := now.Sub(st.at).Seconds()
	st.at = now
	if dt > 0 {
		st.tokens = math.Min(l.burst(), st.tokens+dt*float64(l.IngestBytesPerSecond))
	}
}

// wait is how long until the bucket is no longer in debt.
func (st *state) wait(l Limits) time.Duration {
	if st.tokens >= 0 || l.IngestBytesPerSecond <= 0 {
		return 0
	}
	return secondsUp(-st.tokens / float64(l.IngestBytesPerSecond))
}

// secondsUp converts seconds to a Duration rounded up: a timer of the
// wait rounded down would wake a hair before the debt is paid, and the
// request it holds would be refused.
func secondsUp(s float64) time.Duration {
	return time.Duration(math.Ceil(s * float64(time.Second)))
}

// Over reports whether tenant is over its ingest rate now, and how long
// it should wait: the check before a request's body is read, so that a
// tenant past its quota costs little more than the refusal.
func (q *Quotas) Over(tenant string) (time.Duration, bool) {
	return q.over(tenant, true)
}

// over is Over, counting a refusal only when count.
func (q *Quotas) over(tenant string, count bool) (time.Duration, bool) {
	l := q.limits(tenant)
	if l.IngestBytesPerSecond <= 0 {
		return 0, false
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	st := q.stateLocked(tenant)
	st.refillLocked(l, q.now())
	if d := st.wait(l); d > 0 {
		if count {
			q.refusedLocked(st)
		}
		return d, true
	}
	return 0, false
}

func (q *Quotas) refusedLocked(st *state) {
	st.refusedIngest++
	q.rejected.WithLabelValues(st.label, "ingest_bytes").Inc()
}

// Charge takes bytes from tenant's bucket for records about to be
// ingested. A bucket with tokens left lets the whole batch through, into
// debt if need be (a large request is slow, not refused for ever); one in
// debt refuses it and says how long to wait. refund gives the bytes back
// when the batch was not stored after all.
func (q *Quotas) Charge(tenant string, records int, bytes int64) (refund func(), wait time.Duration, ok bool) {
	return q.charge(tenant, records, bytes, true, true)
}

// Count adds records to tenant's figures without charging its bucket
// (their request was charged by Gate before it was read).
func (q *Quotas) Count(tenant string, records int) {
	q.charge(tenant, records, 0, false, false)
}

// charge is Charge; enforce false only counts, count false counts no
// refusal.
func (q *Quotas) charge(tenant string, records int, bytes int64, enforce, count bool) (refund func(), wait time.Duration, ok bool) {
	l := q.limits(tenant)
	q.mu.Lock()
	defer q.mu.Unlock()
	st := q.stateLocked(tenant)
	if enforce && l.IngestBytesPerSecond > 0 {
		st.refillLocked(l, q.now())
		if d := st.wait(l); d > 0 {
			if count {
				q.refusedLocked(st)
			}
			return nil, d, false
		}
		st.tokens -= float64(bytes)
	}
	st.bytes += bytes
	st.records += int64(records)
	q.ingestBytes.WithLabelValues(st.label).Add(float64(bytes))
	q.ingestRecords.WithLabelValues(st.label).Add(float64(records))
	return func() {
		q.mu.Lock()
		defer q.mu.Unlock()
		if enforce && l.IngestBytesPerSecond > 0 {
			st.tokens += float64(bytes)
		}
		st.bytes -= bytes
		st.records -= int64(records)
	}, 0, true
}

// heldRequest is one request waiting in hold; turn is closed when it is
// the first of its tenant's queue.
type heldRequest struct {
	turn chan struct{}
	// size is what the request will be charged when admitted (its
	// Content-Length; 0 when it is charged after it is read).
	size int64
	// doomed: its turn was expected past MaxHold, so it is refused when
	// its hold ends; it does not count in the wait of those after it.
	doomed bool
}

// untilLocked is how long until st's bucket allows a request queued
// behind the held ones expected to be admitted: the debt and their bytes
// paid at the rate.
func (st *state) untilLocked(l Limits) time.Duration {
	if l.IngestBytesPerSecond <= 0 {
		return 0
	}
	need := -st.tokens
	for _, h := range st.queue {
		if !h.doomed {
			need += float64(h.size)
		}
	}
	if need <= 0 {
		return 0
	}
	return secondsUp(need / float64(l.IngestBytesPerSecond))
}

// until is untilLocked for tenant now: the Retry-After of a refusal.
func (q *Quotas) until(tenant string) time.Duration {
	l := q.limits(tenant)
	q.mu.Lock()
	defer q.mu.Unlock()
	st := q.stateLocked(tenant)
	st.refillLocked(l, q.now())
	return st.untilLocked(l)
}

// heldAhead reports whether requests of tenant are held, and how long
// until the bucket allows a request queued behind them.
func (q *Quotas) heldAhead(tenant string) (time.Duration, bool) {
	l := q.limits(tenant)
	q.mu.Lock()
	defer q.mu.Unlock()
	st := q.stateLocked(tenant)
	if len(st.queue) == 0 {
		return 0, false
	}
	st.refillLocked(l, q.now())
	return st.untilLocked(l), true
}

// hold waits, for a request of tenant over its quota that will be
// charged size bytes, until it may be answered; true when its turn came
// (then it calls admit, which charges it if the debt is paid, before the
// next one's turn comes), false when its hold ended first or when
// MaxHeld of its requests are already waiting (then it does not wait).
// The tenant's held requests queue in arrival order: the
// first waits until the bucket is out of debt, the others until their
// turn or the end of their own hold (see Hold and MaxHold), whichever is
// first. One whose hold ends first is refused, even if the debt happens
// to be paid at that instant: the bucket is the first's, whose own wait
// ends then, and taking it would refuse that one instead, early.
// Waking every held request when the debt is paid would admit one and
// refuse all the others in the same instant, and the flooder would send
// them again together: bursts of a hundred refusals and new connections
// that the other tenants' requests queue behind (the flood benchmark
// with 128 connections). Queued and with jittered holds, the refusals of
// a tenant's held connections come spread over time.
func (q *Quotas) hold(ctx context.Context, tenant string, size int64, admit func()) bool {
	if q.Hold <= 0 {
		return false
	}
	l := q.limits(tenant)
	q.mu.Lock()
	st := q.stateLocked(tenant)
	if q.MaxHeld > 0 && len(st.queue) >= q.MaxHeld {
		q.mu.Unlock()
		return false
	}
	me := &heldRequest{turn: make(chan struct{}), size: size}
	limit := q.Hold
	if q.MaxHold > q.Hold {
		st.refillLocked(l, q.now())
		// Its turn is expected when those before it are paid for; a
		// hold's worth of slack for admissions a little late.
		limit = min(q.MaxHold, max(q.Hold, st.untilLocked(l)+q.Hold))
		me.doomed = limit == q.MaxHold
	}
	if limit == q.Hold || me.doomed {
		limit -= rand.N(limit/4 + 1)
	}
	st.queue = append(st.queue, me)
	if len(st.queue) == 1 {
		close(me.turn)
	}
	q.mu.Unlock()
	defer connlimit.IdleWhile(ctx)()
	defer func() {
		q.mu.Lock()
		i := slices.Index(st.queue, me)
		st.queue = slices.Delete(st.queue, i, i+1)
		if i == 0 && len(st.queue) > 0 {
			close(st.queue[0].turn)
		}
		q.mu.Unlock()
	}()
	end := time.NewTimer(limit)
	defer end.Stop()
	select {
	case <-me.turn:
	case <-end.C:
		return false
	case <-ctx.Done():
		return false
	}
	// First in the queue: wait for the debt as it is now (the request
	// before this one may have just deepened it).
	wait, _ := q.over(tenant, false)
	paid := time.NewTimer(wait)
	defer paid.Stop()
	select {
	case <-paid.C:
	case <-end.C:
	case <-ctx.Done():
	}
	// Admitted (charged) before the next one's turn, which would
	// otherwise find the debt paid and take the bucket at the same time.
	if admit != nil {
		admit()
	}
	return true
}

// StartQuery takes one of tenant's query slots; false when they are all
// taken (the caller answers 429 at once: waiting would hold a connection
// and the server's own slot order hostage to one tenant).
func (q *Quotas) StartQuery(tenant string) (done func(), ok bool) {
	l := q.limits(tenant)
	q.mu.Lock()
	defer q.mu.Unlock()
	st := q.stateLocked(tenant)
	if l.QueryMaxConcurrent > 0 && st.running >= l.QueryMaxConcurrent {
		st.refusedQueries++
		q.rejected.WithLabelValues(st.label, "query_concurrency").Inc()
		return nil, false
	}
	st.running++
	q.running.WithLabelValues(st.label).Inc()
	return func() {
		q.mu.Lock()
		defer q.mu.Unlock()
		st.running--
		q.running.WithLabelValues(st.label).Dec()
	}, true
}

// MaxScanned is the most records one query of tenant may decode, the
// tighter of its quota and server (0: no bound).
func (q *Quotas) MaxScanned(tenant string, server int64) int64 {
	own := q.limits(tenant).QueryMaxScanned
	switch {
	case own <= 0:
		return server
	case server <= 0:
		return own
	}
	return min(own, server)
}

// Scanned adds a query's records decoded to its tenant's cost.
func (q *Quotas) Scanned(tenant string, records int64) {
	if records <= 0 {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	st := q.stateLocked(tenant)
	st.scanned += records
	q.scanned.WithLabelValues(st.label).Add(float64(records))
}

// TenantStatus is one tenant's figures in /api/v1/status.
type TenantStatus struct {
	Tenant               string `json:"tenant"`
	IngestBytes          int64  `json:"ingest_bytes_total"`
	IngestRecords        int64  `json:"ingest_records_total"`
	IngestBytesPerSecond int64  `json:"quota_ingest_bytes_per_second"`
	IngestRefused        int64  `json:"ingest_refused_total"`
	QueriesRunning       int    `json:"queries_running"`
	QueryMaxConcurrent   int    `json:"quota_query_max_concurrent"`
	QueriesRefused       int64  `json:"queries_refused_total"`
	QueryScanned         int64  `json:"query_scanned_records_total"`
	QueryMaxScanned      int64  `json:"quota_query_max_scanned_records"`
}

// Status returns the figures of the tenants that may reports on (nil:
// every tenant seen), sorted by name.
func (q *Quotas) Status(may func(tenant string) bool) []TenantStatus {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := []TenantStatus{}
	for name, st := range q.tenants {
		if may != nil && !may(name) {
			continue
		}
		l := q.limits(name)
		out = append(out, TenantStatus{Tenant: name, IngestBytes: st.bytes, IngestRecords: st.records,
			IngestBytesPerSecond: l.IngestBytesPerSecond, IngestRefused: st.refusedIngest,
			QueriesRunning: st.running, QueryMaxConcurrent: l.QueryMaxConcurrent, QueriesRefused: st.refusedQueries,
			QueryScanned: st.scanned, QueryMaxScanned: l.QueryMaxScanned})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Tenant < out[j].Tenant })
	return out
}

// overText says why a tenant's ingest is refused.
func overText(tenant string, wait time.Duration) string {
	name := tenant
	if name == "" {
		name = "default"
	}
	return fmt.Sprintf("tenant %q is over its ingest quota (quotas: ingest_bytes_per_second); retry in %s", name, wait.Round(time.Millisecond))
}
