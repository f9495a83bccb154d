package sink

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esutil"

	"github.com/sluice-log/sluice/internal/aimd"
)

// ClientOptions says how to reach the cluster.
type ClientOptions struct {
	Addresses []string
	Username  string
	Password  string
	APIKey    string
	// Transport overrides the HTTP transport (tests); nil uses the default.
	Transport http.RoundTripper
	// MaxRetries bounds the client's own retries of a whole request
	// answered 429, 502, 503 or 504 or failing to connect.
	MaxRetries int
	// MaxConcurrency above 0 makes the bulk requests in flight adaptive
	// (internal/aimd: more while round trips stay flat, fewer on 429/5xx,
	// items refused with 429, timeouts or slower round trips), from
	// InitialConcurrency up to this; a full limit makes Write wait, never
	// drop.
	MaxConcurrency, InitialConcurrency int
}

// limitedTransport is transport() with its bulk requests under an AIMD
// limiter when MaxConcurrency is set, whose limit goes to
// sluice_sink_concurrency{sink}.
func (c ClientOptions) limitedTransport(flavour string, m *Metrics) http.RoundTripper {
	tr := c.transport()
	if c.MaxConcurrency <= 0 {
		return tr
	}
	l := aimd.New(aimd.Config{Initial: c.InitialConcurrency, Max: c.MaxConcurrency})
	if m != nil {
		m.concurrency.Track(l, flavour)
	}
	return &aimd.Transport{Next: tr, L: l, Match: func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/_bulk") },
		PushedBack: bulkItemsPushedBack}
}

// retryStatuses are retried by the clients at the request level.
var retryStatuses = []int{http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout}

func clientBackoff(attempt int) time.Duration {
	return min(time.Duration(1<<min(attempt, 8))*100*time.Millisecond, 10*time.Second)
}

// bodyCopy hands the HTTP transport a copy of each request body. The bulk
// indexers reuse their body buffer as soon as the response is read, while
// net/http may still be finishing writing the body in another goroutine (it
// may answer before the write ends: RoundTrip's contract allows it), a data
// race the race detector caught in go-elasticsearch's esutil.BulkIndexer.
// With a copy, the indexer's buffer is read only inside RoundTrip.
type bodyCopy struct{ next http.RoundTripper }

func (t bodyCopy) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("read request body: %w", err)
		}
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(b))
		req.ContentLength = int64(len(b))
	}
	return t.next.RoundTrip(req)
}

func (c ClientOptions) transport() http.RoundTripper {
	if c.Transport != nil {
		return bodyCopy{c.Transport}
	}
	return bodyCopy{http.DefaultTransport}
}

// OpenElasticsearch returns the sink writing through go-elasticsearch's
// esutil.BulkIndexer.
func OpenElasticsearch(ctx context.Context, c ClientOptions, opts SearchSinkOptions, m *Metrics, log *slog.Logger) (*SearchSink, error) {
	es, err := elasticsearch.NewClient(elasticsearch.Config{
		Addresses:     c.Addresses,
		Username:      c.Username,
		Password:      c.Password,
		APIKey:        c.APIKey,
		Transport:     c.limitedTransport("elasticsearch", m),
		RetryOnStatus: retryStatuses,
		MaxRetries:    c.MaxRetries,
		RetryBackoff:  clientBackoff,
	})
	if err != nil {
		return nil, fmt.Errorf("elasticsearch client: %w", err)
	}
	return newSearchSink(ctx, "elasticsearch", &esBulker{es: es, opts: opts}, opts, m, log)
}

type esBulker struct {
	es   *elasticsearch.Client
	opts SearchSinkOptions
}

func (b *esBulker) perform(req *http.Request) (*http.Response, error) { return b.es.Perform(req) }

func (b *esBulker) bulk(ctx context.Context, items []bulkItem, results []bulkResult) error {
	bi, err := esutil.NewBulkIndexer(esutil.BulkIndexerConfig{
		Client:        b.es,
		NumWorkers:    max(b.opts.Workers, 1),
		FlushBytes:    max(b.opts.FlushBytes, 1<<20),
		FlushInterval: time.Hour, // Close flushes; nothing waits on a timer
	})
	if err != nil {
		return fmt.Errorf("elasticsearch bulk indexer: %w", err)
	}
	for i := range items {
		err := bi.Add(ctx, esutil.BulkIndexerItem{
			Action:     "create",
			Index:      items[i].index,
			DocumentID: items[i].id,
			Body:       bytes.NewReader(items[i].body),
			OnSuccess: func(_ context.Context, _ esutil.BulkIndexerItem, r esutil.BulkIndexerResponseItem) {
				results[i] = bulkResult{status: r.Status}
			},
			OnFailure: func(_ context.Context, _ esutil.BulkIndexerItem, r esutil.BulkIndexerResponseItem, err error) {
				results[i] = bulkResult{status: r.Status, errType: r.Error.Type, reason: r.Error.Reason, err: err}
				if r.Error.Cause.Reason != "" {
					results[i].reason += " (caused by " + r.Error.Cause.Type + ": " + r.Error.Cause.Reason + ")"
				}
			},
		})
		if err != nil {
			_ = bi.Close(ctx)
			return fmt.Errorf("elasticsearch bulk indexer: add: %w", err)
		}
	}
	if err := bi.Close(ctx); err != nil {
		return fmt.Errorf("elasticsearch bulk indexer: %w", err)
	}
	return nil
}
