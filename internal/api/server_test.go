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
	"github.com/sluice-log/sluice/internal/testutil/testpipeline"
)

// newTestServer runs the API over a real pipeline (WAL and store in a
// temporary directory) holding recs.
func newTestServer(t *testing.T, recs []record.Record, limits QueryLimits) (*httptest.Server, *pipeline.Pipeline) {
	t.Helper()
	reg := prometheus.NewRegistry()
	p := testpipeline.Open(t, recs, reg)
	if limits.DefaultLimit == 0 {
		limits = QueryLimits{DefaultLimit: 100, MaxLimit: 1000, MaxGroups: 1000, Timeout: 10 * time.Second, MaxConcurrent: 2}
	}
	srv := httptest.NewServer(New(Config{Backend: p, Limits: limits, Gatherer: reg, Registry: reg, Log: slogDiscard()}))
	t.Cleanup(srv.Close)
	return srv, p
}

func testRecords(now time.Time) []record.Record {
	var recs []record.Record
	for i := 0; i < 50; i++ {
		level := "info"
		if i%5 == 0 {
			level = "error"
		}
		recs = append(recs, record.Record{
			Time:    now.Add(-time.Duration(i) * time.Minute).UnixNano(),
			Stream:  []record.Field{{Name: "service", Value: "api"}},
			Message: "request done",
			Fields:  []record.Field{{Name: "level", Value: level}},
		})
	}
	return recs
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestQueryEndpoint(t *testing.T) {
	now := time.Now()
	srv, _ := newTestServer(t, testRecords(now), QueryLimits{})
	tests := []struct {
		name   string
		params url.Values
		code   int
		body   string
	}{
		{"stats", url.Values{"query": {"level:error | stats count() as n"}}, 200, `{"n":10}`},
		{"limit", url.Values{"query": {"*"}, "limit": {"3"}}, 200, `"_msg":"request done"`},
		{"range", url.Values{"query": {"* | stats count() as n"}, "from": {"now-10m"}}, 200, `{"n":10}`},
		{"missing query", url.Values{}, 400, "missing parameter 'query'"},
		{"syntax error", url.Values{"query": {"level:"}}, 400, "1:7"},
		{"bad limit", url.Values{"query": {"*"}, "limit": {"-1"}}, 400, "positive integer"},
		{"limit over max", url.Values{"query": {"*"}, "limit": {"5000"}}, 400, "query.max_limit"},
		{"bad time", url.Values{"query": {"*"}, "from": {"yesterday"}}, 400, "parameter 'from'"},
		{"to before from", url.Values{"query": {"*"}, "from": {"now"}, "to": {"now-1h"}}, 400, "before"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.PostForm(srv.URL+"/api/v1/query", tt.params)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.code || !strings.Contains(string(b), tt.body) {
				t.Errorf("got %d %s; want %d containing %s", resp.StatusCode, b, tt.code, tt.body)
			}
		})
	}
	// limit=3 returns exactly three records, newest first.
	resp, _ := http.PostForm(srv.URL+"/api/v1/query", url.Values{"query": {"*"}, "limit": {"3"}})
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 3 {
		t.Fatalf("limit 3 gave %d lines", len(lines))
	}
	var first, second map[string]string
	_ = json.Unmarshal([]byte(lines[0]), &first)
	_ = json.Unmarshal([]byte(lines[1]), &second)
	if first["_time"] <= second["_time"] {
		t.Errorf("records not newest first: %s then %s", first["_time"], second["_time"])
	}
}

func TestHitsAndFieldNames(t *testing.T) {
	srv, _ := newTestServer(t, testRecords(time.Now()), QueryLimits{})
	code, body := get(t, srv.URL+"/api/v1/hits?query=level:error&from=now-2h&step=10m")
	var hits struct {
		Step    string
		Total   int
		Buckets []struct{ Count int }
	}
	if err := json.Unmarshal([]byte(body), &hits); err != nil || code != 200 || hits.Total != 10 || hits.Step != "10m" {
		t.Errorf("hits: %d %s", code, body)
	}
	if code, body := get(t, srv.URL+"/api/v1/hits?query=*+|+limit+1"); code != 400 || !strings.Contains(body, "without pipes") {
		t.Errorf("hits with pipes: %d %s", code, body)
	}
	code, body = get(t, srv.URL+"/api/v1/field_names?query=*&from=now-2h&top=1")
	var fn struct {
		Fields []struct {
			Name  string
			Count int
			Top   []struct {
				Value string
				Count int
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &fn); err != nil || code != 200 || strings.Contains(body, "partial") {
		t.Fatalf("field_names: %d %s", code, body)
	}
	fields := fn.Fields
	found := false
	for _, f := range fields {
		if f.Name == "level" {
			found = true
			if f.Count != 50 || len(f.Top) != 1 || f.Top[0].Value != "info" || f.Top[0].Count != 40 {
				t.Errorf("level stats: %+v", f)
			}
		}
	}
	if !found {
		t.Errorf("no level field in %s", body)
	}
}

func TestHealthAndFlush(t *testing.T) {
	srv, p := newTestServer(t, testRecords(time.Now()), QueryLimits{})
	if code, _ := get(t, srv.URL+"/healthz"); code != 200 {
		t.Errorf("healthz %d", code)
	}
	if code, _ := get(t, srv.URL+"/readyz"); code != 200 {
		t.Errorf("readyz %d", code)
	}
	resp, err := http.Post(srv.URL+"/internal/force_flush", "", nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("force_flush: %v %v", err, resp)
	}
	resp.Body.Close()
	if st := p.Status(); st.Parts == 0 || st.HeadRecords != 0 || st.WALBytes != 0 {
		t.Errorf("after force_flush: %+v", st)
	}
	if code, body := get(t, srv.URL+"/metrics"); code != 200 || !strings.Contains(body, "sluice_store_parts") || !strings.Contains(body, `sluice_http_request_duration_seconds_count{code="200",route="GET /readyz"}`) {
		t.Errorf("metrics: %d", code)
	}
	_ = p.Close(context.Background())
	if code, _ := get(t, srv.URL+"/readyz"); code != 503 {
		t.Errorf("readyz after close %d, want 503", code)
	}
}

func TestQueryConcurrencyLimit(t *testing.T) {
	srv, _ := newTestServer(t, testRecords(time.Now()), QueryLimits{DefaultLimit: 10, MaxLimit: 10, MaxGroups: 10, Timeout: 200 * time.Millisecond, MaxConcurrent: 1})
	// A live tail does not take a query slot; hold the only slot by hand.
	s := srv.Config.Handler.(*Server)
	s.sem <- struct{}{}
	defer func() { <-s.sem }()
	resp, err := http.PostForm(srv.URL+"/api/v1/query", url.Values{"query": {"*"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(b), "query.max_concurrent") {
		t.Errorf("got %d %s", resp.StatusCode, b)
	}
}
