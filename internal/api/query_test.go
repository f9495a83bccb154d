package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/pipeline"
	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/store"
)

// queryBackend serves queries from a slice, or blocks in Search until the
// query's context ends when block is set.
type queryBackend struct {
	recs     []record.Record
	block    bool
	started  chan struct{} // receives when a blocking search starts
	canceled chan error    // receives the context's error of a blocking search
	// skipped are the parts every search reports it could not read.
	skipped []store.SkippedPart
}

func (b *queryBackend) Searcher() store.Searcher               { return b }
func (b *queryBackend) Subscribe(int64) *pipeline.Subscription { return nil }
func (b *queryBackend) Flush(context.Context) error            { return nil }
func (b *queryBackend) Ready() bool                            { return true }
func (b *queryBackend) Status() pipeline.Status                { return pipeline.Status{} }

func (b *queryBackend) Search(ctx context.Context, req store.SearchRequest, fn func(*record.Record) error) error {
	if b.block {
		b.started <- struct{}{}
		<-ctx.Done()
		b.canceled <- ctx.Err()
		return ctx.Err()
	}
	if req.Stats != nil && len(req.Stats.Skipped) == 0 {
		req.Stats.Skipped = append(req.Stats.Skipped, b.skipped...)
	}
	for i := range b.recs {
		r := &b.recs[i]
		if r.Time < req.From || (req.To != 0 && r.Time >= req.To) || !req.Filter.Match(r) {
			continue
		}
		if req.Stats != nil {
			req.Stats.RecordsMatched++
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

func newQueryServer(t *testing.T, b Backend, limits QueryLimits) *httptest.Server {
	t.Helper()
	reg := prometheus.NewRegistry()
	ts := httptest.NewServer(New(Config{Backend: b, Limits: limits, Gatherer: reg, Registry: reg}))
	t.Cleanup(ts.Close)
	return ts
}

var queryLimits = QueryLimits{DefaultLimit: 100, MaxLimit: 1000, MaxGroups: 1000, Timeout: 10 * time.Second, MaxConcurrent: 1}

func postForm(t *testing.T, ts *httptest.Server, path string, form url.Values) (int, string) {
	t.Helper()
	resp, err := http.PostForm(ts.URL+path, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func contextRecords() []record.Record {
	var recs []record.Record
	for i := range 10 {
		recs = append(recs, record.Record{
			Time:    time.Date(2024, 5, 1, 10, i, 0, 0, time.UTC).UnixNano(),
			Stream:  []record.Field{{Name: "host", Value: []string{"a", "b"}[i%2]}},
			Message: "line " + string(rune('0'+i)),
		})
	}
	return recs
}

func TestContextEndpoint(t *testing.T) {
	ts := newQueryServer(t, &queryBackend{recs: contextRecords()}, queryLimits)
	code, body := postForm(t, ts, "/api/v1/context", url.Values{
		"_stream": {`{host="a"}`}, "_time": {"2024-05-01T10:04:00Z"}, "before": {"1"}, "after": {"2"},
	})
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	var got map[string][]struct {
		Msg string `json:"_msg"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if len(got["before"]) != 1 || got["before"][0].Msg != "line 2" || len(got["at"]) != 1 || got["at"][0].Msg != "line 4" ||
		len(got["after"]) != 2 || got["after"][1].Msg != "line 8" {
		t.Errorf("context = %s", body)
	}
	if code, body := postForm(t, ts, "/api/v1/context", url.Values{"_stream": {`{host="a"}`}, "_time": {"yesterday"}}); code != http.StatusBadRequest || !strings.Contains(body, "_time") {
		t.Errorf("bad _time: %d %s", code, body)
	}
}

func TestExplainEndpoint(t *testing.T) {
	ts := newQueryServer(t, &queryBackend{recs: contextRecords()}, queryLimits)
	for _, path := range []string{"/api/v1/explain", "/api/v1/query?explain=1"} {
		code, body := postForm(t, ts, path, url.Values{"query": {`_stream:{host="a"} | stats count() as n`}})
		if code != http.StatusOK || !strings.Contains(body, `"RecordsMatched":5`) || !strings.Contains(body, `"rows":1`) ||
			!strings.Contains(body, `"index":"host tokens a"`) {
			t.Errorf("%s: %d %s", path, code, body)
		}
	}
}

// TestQueryCanceledOnDisconnect checks that a client going away stops its
// query long before the query's deadline.
func TestQueryCanceledOnDisconnect(t *testing.T) {
	b := &queryBackend{block: true, started: make(chan struct{}, 1), canceled: make(chan error, 1)}
	ts := newQueryServer(t, b, queryLimits)

	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, ts.URL+"/api/v1/query", strings.NewReader("query=*"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	done := make(chan struct{})
	go func() {
		defer close(done)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	<-b.started

	cancel()
	if err := <-b.canceled; err != context.Canceled {
		t.Errorf("search ended with %v, want context.Canceled from the disconnect", err)
	}
	<-done
}
