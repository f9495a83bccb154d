package sink

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/testutil/esfake"
)

// The search sinks are tested against esfake, a test server that answers
// with the status codes and bodies Elasticsearch and OpenSearch document
// (neither can run here), through the official clients (go-elasticsearch,
// opensearch-go) on Sluice's side.

func testOptions() SearchSinkOptions {
	return SearchSinkOptions{DataStreamPrefix: "sluice-logs", Workers: 1, MaxRetries: 3, Backoff: time.Millisecond,
		SetupTemplates: true, Retention: 7 * 24 * time.Hour, TenantRetention: map[string]time.Duration{"acme": 30 * 24 * time.Hour}}
}

func openTestSink(t *testing.T, f esfake.Flavour, srv *esfake.Server, opts SearchSinkOptions) *SearchSink {
	t.Helper()
	open := OpenElasticsearch
	if f == esfake.OpenSearch {
		open = OpenOpenSearch
	}
	s, err := open(context.Background(), ClientOptions{Addresses: []string{srv.URL}, MaxRetries: 2}, opts,
		NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func testItems(n int) []Item {
	items := make([]Item, n)
	for i := range items {
		items[i] = Item{Topic: "logs", Partition: 1, Offset: int64(i), Record: record.Record{
			Time: int64(i), Message: fmt.Sprintf("line %d", i), Stream: []record.Field{{Name: "service", Value: "api"}},
			Fields: []record.Field{{Name: "latency_ms", Value: "12"}},
		}}
	}
	return items
}

func TestSearchSinkItemOutcomes(t *testing.T) {
	tests := []struct {
		name         string
		hook         func(id string, attempt int) int
		bulkFails    int
		forbidden    bool
		conflictAt   int // >= 0: that item's document conflicts with the others' mapping
		wantErr      bool
		wantRejected []string
		wantAttempts []int
	}{
		{name: "all created", conflictAt: -1, wantAttempts: []int{1, 1, 1}},
		{name: "a mapping conflict is rejected with its reason, the rest indexed", conflictAt: 1,
			wantRejected: []string{"logs-1-1"}, wantAttempts: []int{1, 1, 1}},
		{name: "item 429 is retried alone until created", conflictAt: -1,
			hook: func(id string, attempt int) int {
				if id == "logs-1-2" && attempt < 3 {
					return 429
				}
				return 0
			}, wantAttempts: []int{1, 1, 3}},
		{name: "item 5xx is retried", conflictAt: -1,
			hook: func(id string, attempt int) int {
				if id == "logs-1-0" && attempt == 1 {
					return 503
				}
				return 0
			}, wantAttempts: []int{2, 1, 1}},
		{name: "429 for ever fails the write after the retries", conflictAt: -1,
			hook: func(id string, _ int) int {
				if id == "logs-1-1" {
					return 429
				}
				return 0
			}, wantErr: true, wantAttempts: []int{1, 4, 1}},
		{name: "whole request 503 is retried by the client", conflictAt: -1, bulkFails: 2, wantAttempts: []int{1, 1, 1}},
		// The case: a user without write privileges got 403 on every
		// item and all of them were dead-lettered. 403 blames the cluster's
		// configuration, not the documents: retried, Write fails, nothing
		// rejected.
		{name: "item 403 (no privileges) is retried, never rejected", conflictAt: -1, forbidden: true,
			wantErr: true, wantAttempts: []int{4, 4, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := esfake.New(t, esfake.Elasticsearch)
			s := openTestSink(t, esfake.Elasticsearch, srv, testOptions())
			srv.SetItemHook(tt.hook)
			srv.SetForbidden(tt.forbidden)
			srv.FailBulk(tt.bulkFails, http.StatusServiceUnavailable)
			items := testItems(3)
			if tt.conflictAt >= 0 {
				// latency_ms.p99 makes latency_ms an object; the others
				// map it as a long first (documents are indexed in order).
				items[tt.conflictAt].Record.Fields = []record.Field{{Name: "latency_ms.p99", Value: "15"}}
			}
			rejected, err := s.Write(context.Background(), items)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Write error = %v, want error %t", err, tt.wantErr)
			}
			var ids []string
			for _, r := range rejected {
				ids = append(ids, r.Item.ID())
				if !strings.Contains(r.Reason, "status 400 document_parsing_exception") || !strings.Contains(r.Reason, "latency_ms") {
					t.Errorf("reason %q lacks the cluster's error type and reason", r.Reason)
				}
			}
			if fmt.Sprint(ids) != fmt.Sprint(tt.wantRejected) {
				t.Errorf("rejected %v, want %v", ids, tt.wantRejected)
			}
			var attempts []int
			for i := range items {
				attempts = append(attempts, srv.Attempts(items[i].ID()))
			}
			if fmt.Sprint(attempts) != fmt.Sprint(tt.wantAttempts) {
				t.Errorf("attempts %v, want %v", attempts, tt.wantAttempts)
			}
			if err == nil && len(srv.Docs("sluice-logs-default"))+len(rejected) != len(items) {
				t.Errorf("stream holds %d documents, %d rejected, of %d", len(srv.Docs("sluice-logs-default")), len(rejected), len(items))
			}
		})
	}
}

// TestSearchSinkReplayAfterFix: a batch refused with 403 is written once
// the privileges are granted, and a replay of it (as after a crash before
// the offset commit) answers 409 for every item: nothing twice.
func TestSearchSinkReplayAfterFix(t *testing.T) {
	srv := esfake.New(t, esfake.Elasticsearch)
	s := openTestSink(t, esfake.Elasticsearch, srv, testOptions())
	srv.SetForbidden(true)
	if _, err := s.Write(context.Background(), testItems(5)); err == nil {
		t.Fatal("Write succeeded while every item was forbidden")
	}
	srv.SetForbidden(false)
	for range 2 {
		rejected, err := s.Write(context.Background(), testItems(5))
		if err != nil || len(rejected) != 0 {
			t.Fatalf("Write after the fix: %v, rejected %v", err, rejected)
		}
	}
	if n := len(srv.Docs("sluice-logs-default")); n != 5 {
		t.Errorf("%d documents, want 5", n)
	}
}

// TestSearchSinkUnreachableAtStart: a cluster refusing the credentials at
// start does not stop the sink from opening; Write fails (the indexer
// retries and turns not ready) until the cluster takes them, then sets up
// and writes.
func TestSearchSinkUnreachableAtStart(t *testing.T) {
	srv := esfake.New(t, esfake.Elasticsearch)
	srv.SetUnauthenticated(true)
	s := openTestSink(t, esfake.Elasticsearch, srv, testOptions())
	if _, err := s.Write(context.Background(), testItems(2)); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("Write against a 401 cluster: %v", err)
	}
	srv.SetUnauthenticated(false)
	if _, err := s.Write(context.Background(), testItems(2)); err != nil {
		t.Fatal(err)
	}
	if _, ok := srv.Template("sluice-logs"); !ok || len(srv.Docs("sluice-logs-default")) != 2 {
		t.Errorf("after recovery: template %v, documents %d", ok, len(srv.Docs("sluice-logs-default")))
	}
}

func TestSearchSinkSetupElasticsearch(t *testing.T) {
	srv := esfake.New(t, esfake.Elasticsearch)
	opts := testOptions()
	openTestSink(t, esfake.Elasticsearch, srv, opts)

	// The built-in logs template still governs what it governed, and no
	// Sluice stream falls under it.
	if got := srv.TemplateFor("logs-nginx.access-default"); got != "logs" {
		t.Errorf("logs-nginx.access-default would use template %q, want the built-in logs", got)
	}
	if tpl, _ := srv.Template("logs"); tpl.Priority != 100 || fmt.Sprint(tpl.IndexPatterns) != "[logs-*-*]" {
		t.Errorf("built-in template changed: %+v", tpl)
	}
	for stream, want := range map[string]string{"sluice-logs-default": "sluice-logs", "sluice-logs-other": "sluice-logs", "sluice-logs-acme": "sluice-logs-acme"} {
		if got := srv.TemplateFor(stream); got != want {
			t.Errorf("stream %s uses template %q, want %q", stream, got, want)
		}
	}
	if got := fmt.Sprint(srv.Streams()); got != "[sluice-logs-acme sluice-logs-default]" {
		t.Errorf("data streams %s", got)
	}
	tpl, _ := srv.Template("sluice-logs-acme")
	if tpl.Template.Settings["index.lifecycle.name"] != "sluice-logs-acme" || tpl.DataStream == nil {
		t.Errorf("tenant template %+v", tpl)
	}

	// Rollover, then delete after the tenant's retention.
	pol, version := srv.Policy("sluice-logs-acme")
	phases, _ := pol["phases"].(map[string]any)
	del, _ := phases["delete"].(map[string]any)
	hot, _ := phases["hot"].(map[string]any)
	if del["min_age"] != "30d" || !strings.Contains(fmt.Sprint(hot["actions"]), "rollover:map[max_age:1d max_primary_shard_size:53687091200b]") {
		t.Errorf("ILM policy of acme: %v", pol)
	}
	if pol, _ := srv.Policy("sluice-logs"); !strings.Contains(fmt.Sprint(pol), "min_age:7d") {
		t.Errorf("ILM policy of the other tenants: %v", pol)
	}

	// Idempotent: a second start rewrites no policy; a changed retention
	// rewrites that one.
	openTestSink(t, esfake.Elasticsearch, srv, opts)
	if _, v := srv.Policy("sluice-logs-acme"); v != version {
		t.Errorf("unchanged policy written again: version %d → %d", version, v)
	}
	opts.TenantRetention = map[string]time.Duration{"acme": 90 * 24 * time.Hour}
	openTestSink(t, esfake.Elasticsearch, srv, opts)
	if pol, v := srv.Policy("sluice-logs-acme"); v != version+1 || !strings.Contains(fmt.Sprint(pol), "min_age:90d") {
		t.Errorf("changed retention: version %d, policy %v", v, pol)
	}
}

func TestSearchSinkSetupOpenSearch(t *testing.T) {
	srv := esfake.New(t, esfake.OpenSearch)
	opts := testOptions()
	s := openTestSink(t, esfake.OpenSearch, srv, opts)
	pol, version := srv.Policy("sluice-logs-acme")
	got := fmt.Sprint(pol)
	for _, want := range []string{"index_patterns:[.ds-sluice-logs-acme-*]", "min_rollover_age:30d", "min_index_age:1d", "delete:map[]"} {
		if !strings.Contains(got, want) {
			t.Errorf("ISM policy lacks %s: %s", want, got)
		}
	}
	if pol, _ := srv.Policy("sluice-logs"); !strings.Contains(fmt.Sprint(pol), "index_patterns:[.ds-sluice-logs-*]") {
		t.Errorf("catch-all ISM policy: %v", pol)
	}
	// A changed policy is updated with the version it replaces (the
	// server answers 409 otherwise); an unchanged one is left alone.
	openTestSink(t, esfake.OpenSearch, srv, opts)
	opts.Retention = 14 * 24 * time.Hour
	openTestSink(t, esfake.OpenSearch, srv, opts)
	if _, v := srv.Policy("sluice-logs-acme"); v != version {
		t.Errorf("unchanged ISM policy rewritten: version %d", v)
	}
	if pol, v := srv.Policy("sluice-logs"); v != 2 || !strings.Contains(fmt.Sprint(pol), "min_rollover_age:14d") {
		t.Errorf("changed ISM policy: version %d, %v", v, pol)
	}

	// Writes through opensearch-go, one stream per tenant.
	items := testItems(2)
	items[1].Record.Tenant = "acme"
	if rejected, err := s.Write(context.Background(), items); err != nil || len(rejected) != 0 {
		t.Fatalf("Write: %v %v", err, rejected)
	}
	if len(srv.Docs("sluice-logs-default")) != 1 || len(srv.Docs("sluice-logs-acme")) != 1 {
		t.Errorf("documents per stream: default %d, acme %d", len(srv.Docs("sluice-logs-default")), len(srv.Docs("sluice-logs-acme")))
	}
}

// TestSearchSinkMapping: what Kibana needs to chart: numbers as numbers,
// dates as dates, the common fields under their ECS names, one stream per
// tenant.
func TestSearchSinkMapping(t *testing.T) {
	srv := esfake.New(t, esfake.Elasticsearch)
	s := openTestSink(t, esfake.Elasticsearch, srv, testOptions())
	items := []Item{
		{Topic: "logs", Offset: 1, Record: record.Record{Time: 1, Tenant: "Team-A", Message: "GET /x",
			Stream: []record.Field{{Name: "host", Value: "h1"}},
			Fields: []record.Field{{Name: "level", Value: "warn"}, {Name: "latency_ms", Value: "12"}, {Name: "ratio", Value: "0.25"},
				{Name: "started", Value: "2026-11-30T10:00:00Z"}, {Name: "status_code", Value: "503"}, {Name: "client_ip", Value: "10.1.2.3"},
				{Name: "ok", Value: "false"}, {Name: "zip", Value: "01234"}}}},
		// A later word in a numeric field is kept in _source, not indexed
		// (ignore_malformed): not a rejection.
		{Topic: "logs", Offset: 2, Record: record.Record{Time: 2, Tenant: "Team-A", Message: "slow",
			Fields: []record.Field{{Name: "latency_ms", Value: "n/a"}}}},
	}
	rejected, err := s.Write(context.Background(), items)
	if err != nil || len(rejected) != 0 {
		t.Fatalf("Write: %v, rejected %v", err, rejected)
	}
	stream := StreamName("sluice-logs", "Team-A")
	for field, want := range map[string]string{
		"@timestamp": "date_nanos", "message": "text", "sluice.stream": "keyword", "sluice.tenant": "keyword",
		"host.name": "keyword", "log.level": "keyword", "latency_ms": "long", "ratio": "double", "started": "date",
		"http.response.status_code": "long", "client.ip": "ip", "ok": "boolean", "zip": "keyword",
	} {
		if got := srv.FieldType(stream, field); got != want {
			t.Errorf("%s mapped as %q, want %q", field, got, want)
		}
	}
	if docs := srv.Docs(stream); len(docs) != 2 || fmt.Sprint(docs[0]["latency_ms"]) != "12" {
		t.Errorf("documents of %s: %v", stream, docs)
	}
}

func TestStreamName(t *testing.T) {
	for _, tc := range []struct{ tenant, want string }{
		{"", "sluice-logs-default"},
		{"acme", "sluice-logs-acme"},
		{"team_2", "sluice-logs-team_2"},
	} {
		if got := StreamName("sluice-logs", tc.tenant); got != tc.want {
			t.Errorf("StreamName(%q) = %q, want %q", tc.tenant, got, tc.want)
		}
	}
	a, b := StreamName("p", "Team-A"), StreamName("p", "team_a")
	if a == b || !strings.HasPrefix(a, "p-team_a_") || strings.ContainsAny(a[2:], "-ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
		t.Errorf("Team-A → %q, team_a → %q: want distinct, clean names", a, b)
	}
	if long := StreamName("p", strings.Repeat("x", 300)); len(long) > 2+maxTenantPart+9 {
		t.Errorf("a 300-byte tenant makes a %d-byte name", len(long))
	}
}

// TestSearchSinkAdaptiveConcurrency: with MaxConcurrency the bulk requests
// go through an AIMD limiter whose limit is sluice_sink_concurrency{sink};
// a cluster answering 429 lowers it, and the documents are still all
// written (a slow cluster slows the sink, never drops).
func TestSearchSinkAdaptiveConcurrency(t *testing.T) {
	for _, f := range []esfake.Flavour{esfake.Elasticsearch, esfake.OpenSearch} {
		name := map[esfake.Flavour]string{esfake.Elasticsearch: "elasticsearch", esfake.OpenSearch: "opensearch"}[f]
		t.Run(name, func(t *testing.T) {
			srv := esfake.New(t, f)
			open := OpenElasticsearch
			if f == esfake.OpenSearch {
				open = OpenOpenSearch
			}
			reg := prometheus.NewRegistry()
			s, err := open(context.Background(), ClientOptions{Addresses: []string{srv.URL}, MaxRetries: 2, InitialConcurrency: 4, MaxConcurrency: 8},
				testOptions(), NewMetrics(reg), slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			limit := func() float64 {
				mfs, err := reg.Gather()
				if err != nil {
					t.Fatal(err)
				}
				for _, mf := range mfs {
					if mf.GetName() == "sluice_sink_concurrency" {
						for _, m := range mf.GetMetric() {
							if m.GetLabel()[0].GetValue() == name {
								return m.GetGauge().GetValue()
							}
						}
					}
				}
				t.Fatal("no sluice_sink_concurrency for " + name)
				return 0
			}
			if l := limit(); l != 4 {
				t.Fatalf("limit %v at start, want 4", l)
			}
			srv.FailBulk(2, http.StatusTooManyRequests)
			if rejected, err := s.Write(context.Background(), testItems(5)); err != nil || len(rejected) != 0 {
				t.Fatalf("Write: %v, rejected %v", err, rejected)
			}
			if l := limit(); l >= 4 {
				t.Errorf("limit %v after answers 429, want below 4", l)
			}
			if n := len(srv.Docs("sluice-logs-default")); n != 5 {
				t.Errorf("%d documents, want 5", n)
			}
		})
	}
}
