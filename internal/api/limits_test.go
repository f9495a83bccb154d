package api

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/pipeline"
	"github.com/sluice-log/sluice/internal/query"
	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/store"
)

// limitBackend answers every search with err, after recording the request.
type limitBackend struct {
	queryBackend
	err error
	req store.SearchRequest
}

func (b *limitBackend) Searcher() store.Searcher { return b }

func (b *limitBackend) Search(_ context.Context, req store.SearchRequest, _ func(*record.Record) error) error {
	b.req = req
	return b.err
}

// TestQueryCostLimits: the scan bounds reach the store's request, and a
// search stopped by one answers 422 naming the configuration key; a
// regular expression over query.max_regex_size is refused with 400.
func TestQueryCostLimits(t *testing.T) {
	limits := queryLimits
	limits.MaxScannedRecords, limits.MaxScannedBytes, limits.MaxRegexSize = 1000, 1<<20, 100
	tests := []struct {
		name, query string
		err         error
		code        int
		want        string
	}{
		{"records", "*", &store.ScanLimitError{Max: 1000}, http.StatusUnprocessableEntity,
			"more than 1000 records (query.max_scanned_records)"},
		{"bytes", "*", &store.ScanLimitError{Bytes: true, Max: 1 << 20}, http.StatusUnprocessableEntity,
			"more than 1048576 bytes (query.max_scanned_bytes)"},
		{"result bytes", "*", &query.ResultLimitError{Max: 1 << 20}, http.StatusUnprocessableEntity,
			"would take more than 1048576 bytes (query.max_result_bytes)"},
		{"regex size", `_msg:/.{0,100}b/`, nil, http.StatusBadRequest,
			"compiles to 203 instructions, over the limit of 100 (query.max_regex_size)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := &limitBackend{err: tc.err}
			ts := newQueryServer(t, b, limits)
			code, body := postForm(t, ts, "/api/v1/query", url.Values{"query": {tc.query}})
			if code != tc.code || !strings.Contains(body, tc.want) {
				t.Fatalf("%d %s; want %d with %q", code, body, tc.code, tc.want)
			}
			if tc.err != nil && (b.req.MaxScannedRecords != 1000 || b.req.MaxScannedBytes != 1<<20) {
				t.Fatalf("search request bounds %d records, %d bytes", b.req.MaxScannedRecords, b.req.MaxScannedBytes)
			}
			if tc.err != nil {
				_, metrics := get(t, ts.URL+"/metrics")
				key := tc.want[strings.LastIndex(tc.want, "(query.")+7 : len(tc.want)-1]
				if want := `sluice_query_limit_stops_total{limit="` + key + `"} 1`; !strings.Contains(metrics, want) {
					t.Errorf("/metrics lacks %s", want)
				}
			}
		})
	}
}

// slotBackend blocks its first search until the query's deadline, as a
// pathological query does, and answers the others after 200 ms.
type slotBackend struct {
	queryBackend
	searches atomic.Int64
	started  chan struct{}
}

func (b *slotBackend) Searcher() store.Searcher               { return b }
func (b *slotBackend) Subscribe(int64) *pipeline.Subscription { return nil }

func (b *slotBackend) Search(ctx context.Context, req store.SearchRequest, fn func(*record.Record) error) error {
	if b.searches.Add(1) == 1 {
		close(b.started)
		<-ctx.Done()
		return ctx.Err()
	}
	// A query that needs more time than a shared deadline would leave it.
	select {
	case <-time.After(200 * time.Millisecond):
	case <-ctx.Done():
		return ctx.Err()
	}
	return fn(&record.Record{Time: 1, Message: "served"})
}

// TestQuerySlotFreedAtDeadline: a query that runs to its deadline holds
// its slot no longer, and the query queued behind it then runs with a
// timeout of its own instead of what its wait left of it.
func TestQuerySlotFreedAtDeadline(t *testing.T) {
	limits := queryLimits
	limits.MaxConcurrent, limits.Timeout = 1, 500*time.Millisecond
	b := &slotBackend{started: make(chan struct{})}
	ts := newQueryServer(t, b, limits)
	slow := make(chan int, 1)
	go func() {
		code, _ := postForm(t, ts, "/api/v1/query", url.Values{"query": {"*"}})
		slow <- code
	}()
	<-b.started
	time.Sleep(100 * time.Millisecond) // queued well after the slow query took the slot
	code, body := postForm(t, ts, "/api/v1/query", url.Values{"query": {"*"}})
	if code != http.StatusOK || !strings.Contains(body, "served") {
		t.Fatalf("queued query: %d %s", code, body)
	}
	if code := <-slow; code != http.StatusGatewayTimeout {
		t.Fatalf("slow query: %d, want 504", code)
	}
}
