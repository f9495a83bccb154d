package sink

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/opensearch-project/opensearch-go/v4"
	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"
	"github.com/opensearch-project/opensearch-go/v4/opensearchutil"
)

// OpenOpenSearch returns the sink writing through opensearch-go's
// opensearchutil.BulkIndexer.
func OpenOpenSearch(ctx context.Context, c ClientOptions, opts SearchSinkOptions, m *Metrics, log *slog.Logger) (*SearchSink, error) {
	cl, err := opensearchapi.NewClient(opensearchapi.Config{Client: opensearch.Config{
		Addresses:     c.Addresses,
		Username:      c.Username,
		Password:      c.Password,
		Transport:     c.limitedTransport("opensearch", m),
		RetryOnStatus: retryStatuses,
		MaxRetries:    c.MaxRetries,
		RetryBackoff:  clientBackoff,
	}})
	if err != nil {
		return nil, fmt.Errorf("opensearch client: %w", err)
	}
	return newSearchSink(ctx, "opensearch", &osBulker{cl: cl, opts: opts}, opts, m, log)
}

type osBulker struct {
	cl   *opensearchapi.Client
	opts SearchSinkOptions
}

func (b *osBulker) perform(req *http.Request) (*http.Response, error) {
	return b.cl.Client.Stream(req)
}

func (b *osBulker) bulk(ctx context.Context, items []bulkItem, results []bulkResult) error {
	bi, err := opensearchutil.NewBulkIndexer(opensearchutil.BulkIndexerConfig{
		Client:        b.cl,
		NumWorkers:    max(b.opts.Workers, 1),
		FlushBytes:    max(b.opts.FlushBytes, 1<<20),
		FlushInterval: time.Hour, // Close flushes; nothing waits on a timer
	})
	if err != nil {
		return fmt.Errorf("opensearch bulk indexer: %w", err)
	}
	for i := range items {
		err := bi.Add(ctx, opensearchutil.BulkIndexerItem{
			Action:     "create",
			Index:      items[i].index,
			DocumentID: items[i].id,
			Body:       bytes.NewReader(items[i].body),
			OnSuccess: func(_ context.Context, _ opensearchutil.BulkIndexerItem, r opensearchapi.BulkRespItem) {
				results[i] = bulkResult{status: r.Status}
			},
			OnFailure: func(_ context.Context, _ opensearchutil.BulkIndexerItem, r opensearchapi.BulkRespItem, err error) {
				results[i] = bulkResult{status: r.Status, err: err}
				if r.Error != nil {
					results[i].errType, results[i].reason = r.Error.Type, r.Error.Reason
					if r.Error.Cause.Reason != "" {
						results[i].reason += " (caused by " + r.Error.Cause.Type + ": " + r.Error.Cause.Reason + ")"
					}
				}
			},
		})
		if err != nil {
			_ = bi.Close(ctx)
			return fmt.Errorf("opensearch bulk indexer: add: %w", err)
		}
	}
	if err := bi.Close(ctx); err != nil {
		return fmt.Errorf("opensearch bulk indexer: %w", err)
	}
	return nil
}
