package sink

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/aimd"
)

// bulkItem is one document of a bulk request.
type bulkItem struct {
	index string // the tenant's data stream
	id    string
	body  []byte
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
	// perform sends one plain request (templates, policies, data streams).
	perform(req *http.Request) (*http.Response, error)
}

// SearchSinkOptions configures the Elasticsearch/OpenSearch sink.
type SearchSinkOptions struct {
	// DataStreamPrefix names the data streams: <prefix>-<tenant>
	// (StreamName).
	DataStreamPrefix string
	FlushBytes       int
	Workers          int
	MaxRetries       int           // item-level retries on 429/5xx/cluster errors before Write fails (and is retried by the caller)
	Backoff          time.Duration // first retry delay; doubles up to 30 s
	// SetupTemplates creates the lifecycle policies, index templates and
	// data streams (setup.go) before the first write.
	SetupTemplates bool
	// Rollover of a stream's write index, and deletion of its indices
	// after the tenant's retention (0: never).
	RolloverMaxAge              time.Duration
	RolloverMaxPrimaryShardSize int64
	Retention                   time.Duration
	TenantRetention             map[string]time.Duration
}

// SearchSink writes items into Elasticsearch or OpenSearch, one data stream
// per tenant, with create actions whose _id is the item's identity
// (topic-partition-offset): a replay of an item the cluster already has
// answers 409, which counts as done, so replays never duplicate (and work
// with data streams, which take only create).
//
// What it retries and what it refuses: an item the cluster refused because
// of the document itself (status 400: a mapping conflict, a parse error)
// is returned as Rejected, for the dead-letter topic. Everything else that
// is not a success — the whole request failing, 401/403 (credentials,
// privileges), 404 (no such index), 429, 5xx, a cluster block — says
// nothing about the document: it is retried with backoff and, when it
// lasts, Write fails so that the batch stays uncommitted and the indexer
// reports not ready (sink.unready_after).
type SearchSink struct {
	b       bulker
	opts    SearchSinkOptions
	m       *Metrics
	log     *slog.Logger
	flavour string

	setupMu   sync.Mutex
	setupDone bool
}

// Metrics of the search sinks.
type Metrics struct {
	retries  *prometheus.CounterVec
	rejected *prometheus.CounterVec
	indexed  *prometheus.CounterVec
	// concurrency is the adaptive limit of bulk requests in flight.
	concurrency *aimd.Metrics
}

// NewMetrics registers the sinks' metrics.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_sink_retries_total",
			Help: "Documents sent again after an answer that does not blame them (429, 5xx, 401/403, cluster blocks; item or request level), by sink.",
		}, []string{"sink"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_sink_rejected_total",
			Help: "Documents the cluster refused for their content (status 400: mapping conflicts, parse errors), routed to the dead-letter topic, by sink and error type.",
		}, []string{"sink", "type"}),
		indexed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_sink_indexed_total",
			Help: "Documents the cluster acknowledged (created, or already present from an earlier attempt), by sink.",
		}, []string{"sink"}),
	}
	m.concurrency = aimd.NewMetrics(reg)
	reg.MustRegister(m.retries, m.rejected, m.indexed)
	return m
}

func newSearchSink(ctx context.Context, flavour string, b bulker, opts SearchSinkOptions, m *Metrics, log *slog.Logger) (*SearchSink, error) {
	if opts.Backoff <= 0 {
		opts.Backoff = 200 * time.Millisecond
	}
	if opts.DataStreamPrefix == "" {
		return nil, fmt.Errorf("%s sink: no data stream prefix", flavour)
	}
	if opts.RolloverMaxAge <= 0 {
		opts.RolloverMaxAge = 24 * time.Hour
	}
	if opts.RolloverMaxPrimaryShardSize <= 0 {
		opts.RolloverMaxPrimaryShardSize = 50 << 30
	}
	s := &SearchSink{b: b, opts: opts, m: m, log: log, flavour: flavour, setupDone: !opts.SetupTemplates}
	// A cluster that cannot be set up now (down, refusing the credentials)
	// does not stop the start: the first Write tries again, and fails (and
	// is retried, and makes the indexer not ready) until it works.
	if err := s.ensureSetup(ctx); err != nil {
		log.Warn("cannot set up templates and lifecycle policies yet; retrying before the first write", "err", err)
	}
	return s, nil
}

// ensureSetup runs setup until it succeeded once.
func (s *SearchSink) ensureSetup(ctx context.Context) error {
	s.setupMu.Lock()
	defer s.setupMu.Unlock()
	if s.setupDone {
		return nil
	}
	if err := setup(ctx, s.b, s.flavour, &s.opts); err != nil {
		return fmt.Errorf("%s sink: set up lifecycle policies, index templates and data streams: %w", s.flavour, err)
	}
	s.setupDone = true
	s.log.Info("lifecycle policies, index templates and data streams ready", "streams", s.opts.DataStreamPrefix+"-*")
	return nil
}

// clusterErrorTypes are item errors of status 400 that say nothing about
// the document: the cluster cannot or will not take writes there now.
var clusterErrorTypes = map[string]bool{
	"cluster_block_exception":      true,
	"index_not_found_exception":    true,
	"invalid_index_name_exception": true,
	"index_closed_exception":       true,
	"security_exception":           true,
}

type outcome int

const (
	outcomeDone   outcome = iota // in the cluster
	outcomeRetry                 // try again; the document is not at fault
	outcomeReject                // the document itself was refused: dead-letter it
)

func (r *bulkResult) outcome() outcome {
	switch {
	case r.err != nil:
		return outcomeRetry
	case r.status >= 200 && r.status < 300, r.status == http.StatusConflict:
		// 409 on create: an earlier attempt of this replay made it.
		return outcomeDone
	case r.status == http.StatusBadRequest && !clusterErrorTypes[r.errType]:
		return outcomeReject
	}
	return outcomeRetry
}

// Write sends items, retrying those not refused for their content with
// exponential backoff and jitter up to MaxRetries times; items refused for
// good are returned as Rejected with the cluster's error type and reason.
// If items are still failing after the last retry, Write fails and the
// caller sends the whole batch again later (harmless: _id makes it
// idempotent).
func (s *SearchSink) Write(ctx context.Context, items []Item) ([]Rejected, error) {
	if err := s.ensureSetup(ctx); err != nil {
		return nil, err
	}
	pending := make([]int, len(items))
	docs := make([]bulkItem, len(items))
	for i := range items {
		pending[i] = i
		docs[i] = bulkItem{
			index: StreamName(s.opts.DataStreamPrefix, items[i].Record.Tenant),
			id:    items[i].ID(),
			body:  appendDocument(nil, &items[i].Record),
		}
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
			switch r.outcome() {
			case outcomeDone:
				s.m.indexed.WithLabelValues(s.flavour).Inc()
			case outcomeRetry:
				again = append(again, i)
				lastErr = r.describe()
			case outcomeReject:
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
		s.log.Warn("retrying documents after an answer that does not blame them", "documents", len(again), "attempt", attempt+1, "delay", delay, "last_error", lastErr)
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
