package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/pipeline"
	"github.com/sluice-log/sluice/internal/query"
	"github.com/sluice-log/sluice/internal/store"
)

// statusBackend answers a fixed status; the status and UI routes need
// nothing else from the pipeline.
type statusBackend struct{ st pipeline.Status }

func (b statusBackend) Searcher() store.Searcher               { return nil }
func (b statusBackend) Subscribe(int64) *pipeline.Subscription { return nil }
func (b statusBackend) Flush(context.Context) error            { return nil }
func (b statusBackend) Ready() bool                            { return b.st.Ready }
func (b statusBackend) Status() pipeline.Status                { return b.st }

func handlerText(s string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, s) })
}

// startWith runs a server of cfg with a fresh registry for its own metrics.
func startWith(t *testing.T, cfg Config) *httptest.Server {
	t.Helper()
	reg := prometheus.NewRegistry()
	if cfg.Gatherer == nil {
		cfg.Gatherer = reg
	}
	cfg.Registry = reg
	cfg.Log = slogDiscard()
	srv := httptest.NewServer(New(cfg))
	t.Cleanup(srv.Close)
	return srv
}

func TestStatusReportsPipelineAndReceivers(t *testing.T) {
	reg := prometheus.NewRegistry()
	records := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_ingest_records_total", Help: "h"}, []string{"protocol"})
	rejected := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_ingest_rejected_records_total", Help: "h"}, []string{"protocol", "reason"})
	reg.MustRegister(records, rejected)
	records.WithLabelValues("jsonline").Add(120)
	records.WithLabelValues("esbulk").Add(7)
	rejected.WithLabelValues("jsonline", "bad_json").Add(2)
	rejected.WithLabelValues("jsonline", "too_long").Add(1)

	inFlight := ingest.NewInFlight(1<<20, reg)
	held, _ := inFlight.TryAcquire("jsonline", 1000)
	defer held.Release()

	st := pipeline.Status{Ready: true, WALBytes: 25, WALMaxBytes: 100, DiskBytes: 4096, Records: 127, Retention: 72 * time.Hour}
	srv := startWith(t, Config{Backend: statusBackend{st}, Gatherer: reg, Version: "v1.2.3",
		Limits: QueryLimits{MaxConcurrent: 4, MaxResultBytes: 1 << 22}})
	resp, err := http.Get(srv.URL + "/api/v1/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got statusResponse
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.Version != "v1.2.3" || !got.Pipeline.Ready || got.Pipeline.DiskBytes != 4096 || got.Pipeline.Retention != 72*time.Hour {
		t.Errorf("status = %+v", got)
	}
	if got.WALFill != 0.25 {
		t.Errorf("wal_fill = %v, want 0.25", got.WALFill)
	}
	if got.InFlight != (inFlightStatus{Bytes: 1000, MaxBytes: 1 << 20}) {
		t.Errorf("ingest_in_flight = %+v", got.InFlight)
	}
	if got.Query != (queryStatus{MaxConcurrent: 4, MaxTails: 2, TailBufferBytes: DefaultTailBufferBytes, MaxResultBytes: 1 << 22,
		WriteTimeout: DefaultWriteTimeout, MaxRegexSize: query.DefaultMaxRegexSize}) {
		t.Errorf("query = %+v", got.Query)
	}
	want := []receiverStatus{{Protocol: "esbulk", Records: 7}, {Protocol: "jsonline", Records: 120, Rejected: 3}}
	if len(got.Receivers) != len(want) {
		t.Fatalf("receivers = %+v, want %+v", got.Receivers, want)
	}
	for i := range want {
		if got.Receivers[i] != want[i] {
			t.Errorf("receiver %d = %+v, want %+v", i, got.Receivers[i], want[i])
		}
	}
}

// TestStatusLimits: the status shows every query limit in force, by its
// configuration key, and the largest ingest request beside the bound on
// bytes in flight.
func TestStatusLimits(t *testing.T) {
	srv := startWith(t, Config{Backend: statusBackend{pipeline.Status{Ready: true}}, MaxRequestBytes: 64 << 20,
		Limits: QueryLimits{DefaultLimit: 1000, MaxLimit: 100000, MaxGroups: 5000, Timeout: time.Minute, MaxConcurrent: 4,
			MaxScannedRecords: 1e9, MaxScannedBytes: 1 << 40, TailBufferBytes: 1 << 20, MaxResultBytes: 1 << 28,
			MaxAggregationBytes: 1 << 27, WriteTimeout: 30 * time.Second}})
	resp, err := http.Get(srv.URL + "/api/v1/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Query    map[string]float64 `json:"query"`
		InFlight map[string]float64 `json:"ingest_in_flight"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		section map[string]float64
		key     string
		want    float64
	}{
		{got.Query, "max_concurrent", 4},
		{got.Query, "max_tails", 2},
		{got.Query, "tail_buffer_bytes", 1 << 20},
		{got.Query, "max_result_bytes", 1 << 28},
		{got.Query, "max_aggregation_bytes", 1 << 27},
		{got.Query, "timeout_ns", float64(time.Minute)},
		{got.Query, "write_timeout_ns", float64(30 * time.Second)},
		{got.Query, "default_limit", 1000},
		{got.Query, "max_limit", 100000},
		{got.Query, "max_groups", 5000},
		{got.Query, "max_scanned_records", 1e9},
		{got.Query, "max_scanned_bytes", 1 << 40},
		{got.Query, "max_regex_size", query.DefaultMaxRegexSize},
		{got.InFlight, "max_request_bytes", 64 << 20},
	} {
		if v, ok := tc.section[tc.key]; !ok || v != tc.want {
			t.Errorf("%s = %v (present %v), want %v", tc.key, v, ok, tc.want)
		}
	}
}

func TestIngestRates(t *testing.T) {
	t0 := time.Unix(1000, 0)
	steps := []struct {
		at      time.Duration
		records float64
		bp      int64
		rate    float64
		bpRate  float64
	}{
		{0, 100, 0, 0, 0},                      // first sample: no rate yet
		{500 * time.Millisecond, 150, 0, 0, 0}, // under the window: keeps the last rate
		{2 * time.Second, 300, 4, 100, 2},      // 200 records and 4 refusals in 2 s
		{2500 * time.Millisecond, 900, 4, 100, 2},
		{4 * time.Second, 300, 4, 0, 0}, // a counter reset never gives a negative rate
	}
	var r ingestRates
	for i, s := range steps {
		recv := []receiverStatus{{Protocol: "jsonline", Records: s.records}}
		bp := r.update(t0.Add(s.at), recv, s.bp)
		if recv[0].RecordsPerSec != s.rate || bp != s.bpRate {
			t.Errorf("step %d: rate %v, backpressure %v; want %v, %v", i, recv[0].RecordsPerSec, bp, s.rate, s.bpRate)
		}
	}
}

func TestRootServesUIToBrowsersOnly(t *testing.T) {
	ui := handlerText("ui")
	cases := []struct {
		name    string
		ingest  map[string]http.Handler
		path    string
		accept  string
		want    string
		wantErr int
	}{
		{"browser at root", map[string]http.Handler{rootPattern: handlerText("es")}, "/", "text/html,application/xhtml+xml", "ui", 0},
		{"es client at root", map[string]http.Handler{rootPattern: handlerText("es")}, "/", "application/json", "es", 0},
		{"no accept header", map[string]http.Handler{rootPattern: handlerText("es")}, "/", "", "es", 0},
		{"root without es receiver", nil, "/", "", "ui", 0},
		{"ui asset path", nil, "/ui/assets/x.js", "*/*", "ui", 0},
		{"unknown path", nil, "/nope", "text/html", "", http.StatusNotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := startWith(t, Config{Backend: statusBackend{}, Ingest: c.ingest, UI: ui})
			req, _ := http.NewRequest("GET", srv.URL+c.path, nil)
			if c.accept != "" {
				req.Header.Set("Accept", c.accept)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if c.wantErr != 0 {
				if resp.StatusCode != c.wantErr {
					t.Errorf("status %d, want %d", resp.StatusCode, c.wantErr)
				}
				return
			}
			if string(body) != c.want {
				t.Errorf("body %q, want %q", body, c.want)
			}
		})
	}
}
