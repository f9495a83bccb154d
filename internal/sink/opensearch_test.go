package sink

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestOpenSearchSink runs the opensearch-go adapter against the same
// _bulk answers (OpenSearch's bulk response has the same shape).
func TestOpenSearchSink(t *testing.T) {
	f := &fakeCluster{attempts: map[string]int{}, answer: func(id string, attempt int) int {
		switch {
		case id == "logs-1-0":
			return 400
		case id == "logs-1-1" && attempt == 1:
			return 429
		}
		return 201
	}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	s, err := OpenOpenSearch(context.Background(), ClientOptions{Addresses: []string{srv.URL}, MaxRetries: 2},
		SearchSinkOptions{Index: "logs-sluice-default", Workers: 1, MaxRetries: 3, Backoff: time.Millisecond, SetupTemplates: true},
		NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	rejected, err := s.Write(context.Background(), testItems(3))
	if err != nil {
		t.Fatal(err)
	}
	if len(rejected) != 1 || rejected[0].Item.Offset != 0 {
		t.Fatalf("rejected %+v, want offset 0", rejected)
	}
	if f.attempts["logs-1-1"] != 2 || f.attempts["logs-1-2"] != 1 {
		t.Errorf("attempts %v", f.attempts)
	}
	if len(f.requests) < 3 || f.requests[0] != "PUT /_index_template/logs-sluice-default" {
		t.Errorf("requests %v", f.requests)
	}
}
