package sink

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/testutil/esfake"
)

func TestBulkItemsPushedBack(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		status     int
		want       bool
	}{
		{"no errors", `{"took":3,"errors":false,"items":[{"create":{"status":201}}]}`, 200, false},
		{"item 429", `{"took":3,"errors":true,"items":[{"create":{"status":201}},{"create":{"status":429,"error":{"type":"es_rejected_execution_exception"}}}]}`, 200, true},
		{"rejected execution under another status", `{"errors" : true, "items":[{"index":{"status":503,"error":{"type":"es_rejected_execution_exception"}}}]}`, 200, true},
		{"spaces around the colon", "{\"took\":1,\n \"errors\" :\ttrue,\"items\":[{\"create\":{\"status\":429}}]}", 200, true},
		{"only documents refused", `{"took":3,"errors":true,"items":[{"create":{"status":400,"error":{"type":"mapper_parsing_exception","reason":"\"errors\": true"}}}]}`, 200, false},
		{"reason quoting errors true", `{"took":3,"errors":false,"items":[{"create":{"status":201,"result":"\"errors\":true"}}]}`, 200, false},
		{"not 200", `{"error":{"type":"es_rejected_execution_exception"},"status":429}`, 429, false},
		{"truncated", `{"took":3,"errors":true,"items":[{"create":{"status":429`, 200, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := &http.Response{StatusCode: tc.status, Body: io.NopCloser(strings.NewReader(tc.body))}
			if got := bulkItemsPushedBack(resp); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			if b, _ := io.ReadAll(resp.Body); tc.status == 200 && string(b) != tc.body {
				t.Errorf("the client reads %q, want the answer unchanged", b)
			}
		})
	}
}

func FuzzBulkItemsPushedBack(f *testing.F) {
	f.Add([]byte(`{"took":3,"errors":true,"items":[{"create":{"status":429}}]}`))
	f.Add([]byte(`{"errors":tru`))
	f.Add([]byte(`"errors"`))
	f.Fuzz(func(t *testing.T, b []byte) {
		resp := &http.Response{StatusCode: 200, Body: io.NopCloser(bytes.NewReader(b))}
		bulkItemsPushedBack(resp)
		if got, _ := io.ReadAll(resp.Body); !bytes.Equal(got, b) {
			t.Fatalf("the client reads %q, want %q", got, b)
		}
	})
}

// delayed adds a fixed round trip to every request, outside esfake (which
// serves one request at a time): a cluster whose latency does not depend
// on how many requests are in flight, so that only the 429s move the
// limit.
type delayed struct{ d time.Duration }

func (t delayed) RoundTrip(r *http.Request) (*http.Response, error) {
	time.Sleep(t.d)
	return http.DefaultTransport.RoundTrip(r)
}

// TestSearchSinkItemLevel429: a cluster whose behaviour changes over
// time. It first takes everything (the limit climbs), then answers bulk
// requests 200 with "errors": true and items refused with 429
// es_rejected_execution_exception (the limit comes down as for an HTTP
// 429, and the items are retried), then takes everything again (the limit
// climbs back). Every document is in the cluster at the end. esfake is
// an httptest server shaping the answers; neither cluster runs here.
func TestSearchSinkItemLevel429(t *testing.T) {
	srv := esfake.New(t, esfake.Elasticsearch)
	var overloaded atomic.Bool
	srv.SetItemHook(func(_ string, attempt int) int {
		if overloaded.Load() && attempt == 1 {
			return http.StatusTooManyRequests
		}
		return 0
	})
	reg := prometheus.NewRegistry()
	s, err := OpenElasticsearch(context.Background(), ClientOptions{Addresses: []string{srv.URL}, Transport: delayed{10 * time.Millisecond},
		MaxRetries: 2, InitialConcurrency: 2, MaxConcurrency: 8}, testOptions(), NewMetrics(reg), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	gauge := func(name string) float64 {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == name {
				m := mf.GetMetric()[0]
				return m.GetGauge().GetValue() + m.GetCounter().GetValue()
			}
		}
		return 0
	}
	var next atomic.Int64
	// run keeps 8 writers busy until done says the limit got where the
	// phase should take it (at most 300 writes each).
	run := func(phase string, done func(limit float64) bool) {
		var wg sync.WaitGroup
		var reached atomic.Bool
		for range 8 {
			wg.Go(func() {
				for i := 0; i < 300 && !reached.Load(); i++ {
					items := testItems(5)
					for j := range items {
						items[j].Offset = next.Add(1)
					}
					if rejected, err := s.Write(context.Background(), items); err != nil || len(rejected) > 0 {
						t.Errorf("%s: Write: %v, rejected %v", phase, err, rejected)
						return
					}
					if done(gauge("sluice_sink_concurrency")) {
						reached.Store(true)
					}
				}
			})
		}
		wg.Wait()
		t.Logf("%s: limit %v", phase, gauge("sluice_sink_concurrency"))
		if !reached.Load() {
			t.Fatalf("%s: the limit stayed at %v", phase, gauge("sluice_sink_concurrency"))
		}
	}
	run("healthy", func(l float64) bool { return l >= 6 })
	overloaded.Store(true)
	run("items refused with 429", func(l float64) bool { return l <= 3 })
	if r := gauge("sluice_sink_retries_total"); r == 0 {
		t.Error("no documents retried after items refused with 429")
	}
	overloaded.Store(false)
	run("healthy again", func(l float64) bool { return l >= 6 })
	if n, want := len(srv.Docs("sluice-logs-default")), int(next.Load()); n != want {
		t.Errorf("%d documents in the cluster, want %d", n, want)
	}
}
