package querier

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/sluice-log/sluice/internal/pipeline"
	"github.com/sluice-log/sluice/internal/store"
)

// Backend is the API's Backend in the querier role, which stores nothing:
// queries go through the Querier (the API's Engine), live tail through
// TailHandler.
type Backend struct{ Q *Querier }

// Searcher is nil: the querier has no store, and the API runs its
// queries through the Querier instead.
func (Backend) Searcher() store.Searcher { return nil }

// Subscribe is nil: live tail is the Querier's TailHandler.
func (Backend) Subscribe(int64) *pipeline.Subscription { return nil }

// Ready is true once every indexer was polled.
func (b Backend) Ready() bool { return b.Q.Ready() }

// Status is empty: a querier has no pipeline; its indexers are reported
// apart (Querier.Indexers).
func (Backend) Status() pipeline.Status { return pipeline.Status{} }

// Flush asks every indexer to flush (POST /internal/force_flush), so that
// what each holds in memory is in parts; it fails if any indexer fails.
func (b Backend) Flush(ctx context.Context) error {
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	for _, m := range b.Q.snapshot() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := b.Q.do(ctx, ask{url: m.url}, "", http.MethodPost, "/internal/force_flush", nil)
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
