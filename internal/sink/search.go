package sink

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// bulkItem is one document of a bulk request.
type bulkItem struct {
	id   string
	body []byte
}

// bulkResult is the outcome of one bulkItem: the item's HTTP status and
// error from the bulk response, or err when the request as a whole failed
// (then status is 0).
type bulkResult struct {
	status  int
	errType string
	reason  string
	err     error
}

// bulker sends items in bulk requests (the client's bulk indexer) and
// reports each item's outcome in results[i]. Adapters exist for
// go-elasticsearch (esutil) and opensearch-go (opensearchutil).
type bulker interface {
	bulk(ctx context.Context, items []bulkItem, results []bulkResult) error
	// perform sends one plain request (template and data stream setup).
	perform(req *http.Request) (*http.Response, error)
}

// SearchSinkOptions configures the Elasticsearch/OpenSearch sink.
type SearchSinkOptions struct {
	Index          string
	FlushBytes     int
	Workers        int
	MaxRetries     int           // item-level retries on 429/5xx before Write fails (and is retried by the caller)
	Backoff        time.Duration // first retry delay; doubles up to 30 s
	SetupTemplates bool
}

// SearchSink writes items into Elasticsearch or OpenSearch with create
// actions whose _id is the item's topic-partition-offset: a replay of an
// item the cluster already has answers 409, which counts as done, so
// replays never duplicate (and work with data streams, which take only
// create).
type SearchSink struct {
	b       bulker
	opts    SearchSinkOptions
	m       *Metrics
	log     *slog.Logger
	flavour string
}

// Metrics of the search sinks.
type Metrics struct {
	retries  *prometheus.CounterVec
	rejected *prometheus.CounterVec
	indexed  *prometheus.CounterVec
}

// NewMetrics registers the sinks' metrics.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_sink_retries_total",
			Help: "Documents sent again after a 429 or 5xx answer (item or request level), by sink.",
		}, []string{"sink"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_sink_rejected_total",
			Help: "Documents the cluster refused for good (e.g. mapping conflicts), routed to the dead-letter topic, by sink and error type.",
		}, []string{"sink", "type"}),
		indexed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_sink_indexed_total",
			Help: "Documents the cluster acknowledged (created, or already present from an earlier attempt), by sink.",
		}, []string{"sink"}),
	}
	reg.MustRegister(m.retries, m.rejected, m.indexed)
	return m
}

func newSearchSink(ctx context.Context, flavour string, b bulker, opts SearchSinkOptions, m *Metrics, log *slog.Logger) (*SearchSink, error) {
	if opts.Backoff <= 0 {
		opts.Backoff = 200 * time.Millisecond
	}
	s := &SearchSink{b: b, opts: opts, m: m, log: log, flavour: flavour}
	if opts.SetupTemplates {
		if err := setupDataStream(ctx, b, opts.Index); err != nil {
			return nil, fmt.Errorf("%s sink: set up index template and data stream %q: %w", flavour, opts.Index, err)
		}
		log.Info("index template and data stream ready", "index", opts.Index)
	}
	return s, nil
}

// retryable reports whether an item's outcome may succeed when sent again.
func (r *bulkResult) retryable() bool {
	return r.err != nil || r.status == http.StatusTooManyRequests || r.status >= 500
}

// done reports whether the item is in the cluster: created now, or already
// there (409 on create: an earlier attempt of this replay made it).
func (r *bulkResult) done() bool {
	return r.err == nil && (r.status >= 200 && r.status < 300 || r.status == http.StatusConflict)
}

// Write sends items, retrying those answered 429/5xx with exponential
// backoff and jitter up to MaxRetries times; items refused for good are
// returned as Rejected with the cluster's error type and reason. If items
// are still retryable after the last retry, Write fails and the caller
// sends the whole batch again later (harmless: _id makes it idempotent).
func (s *SearchSink) Write(ctx context.Context, items []Item) ([]Rejected, error) {
	pending := make([]int, len(items))
	docs := make([]bulkItem, len(items))
	for i := range items {
		pending[i] = i
		docs[i] = bulkItem{id: items[i].ID(), body: appendDocument(nil, &items[i].Record)}
	}
	var rejected []Rejected
	delay := s.opts.Backoff
	for attempt := 0; ; attempt++ {
		send := make([]bulkItem, len(pending))
		for j, i := range pending {
			send[j] = docs[i]
		}
		results := make([]bulkResult, len(send))
		if err := s.b.bulk(ctx, send, results); err != nil {
			for j := range results {
				if results[j].status == 0 && results[j].err == nil {
					results[j].err = err
				}
			}
		}
		var again []int
		var lastErr string
		for j, i := range pending {
			r := &results[j]
			switch {
			case r.done():
				s.m.indexed.WithLabelValues(s.flavour).Inc()
			case r.retryable():
				again = append(again, i)
				lastErr = r.describe()
			default:
				s.m.rejected.WithLabelValues(s.flavour, r.errType).Inc()
				rejected = append(rejected, Rejected{Item: items[i], Reason: r.describe()})
			}
		}
		if len(again) == 0 {
			return rejected, nil
		}
		if attempt >= s.opts.MaxRetries {
			return nil, fmt.Errorf("%s sink: %d of %d documents still failing after %d retries, last: %s",
				s.flavour, len(again), len(items), attempt, lastErr)
		}
		s.m.retries.WithLabelValues(s.flavour).Add(float64(len(again)))
		s.log.Warn("retrying documents after a retryable answer", "documents", len(again), "attempt", attempt+1, "delay", delay, "last_error", lastErr)
		t := time.NewTimer(delay + rand.N(delay/2+1))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%s sink: %w", s.flavour, ctx.Err())
		case <-t.C:
		}
		delay = min(2*delay, 30*time.Second)
		pending = again
	}
}

func (r *bulkResult) describe() string {
	switch {
	case r.err != nil:
		return "request failed: " + r.err.Error()
	case r.errType != "":
		return fmt.Sprintf("status %d %s: %s", r.status, r.errType, r.reason)
	default:
		return fmt.Sprintf("status %d", r.status)
	}
}

// Close does nothing: each Write uses its own bulk indexer run to the end.
func (s *SearchSink) Close(context.Context) error { return nil }
