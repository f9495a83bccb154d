package logmetrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/query"
	"github.com/sluice-log/sluice/internal/record"
)

func rec(tenant, service, status, bytes string) record.Record {
	return record.Record{Tenant: tenant, Stream: []record.Field{{Name: "service", Value: service}},
		Fields: []record.Field{{Name: "status", Value: status}, {Name: "bytes", Value: bytes}}}
}

func TestObserve(t *testing.T) {
	reg := prometheus.NewRegistry()
	s, err := New([]config.MetricConfig{
		{Name: "http_errors", Query: `status:>=500 | stats count() as n by service`, MaxSeries: 2},
		{Name: "traffic", Query: `* | stats count() as requests, sum(bytes) as bytes`, MaxSeries: 10},
		{Name: "acme", Tenant: "acme", Query: `* | stats count()`, MaxSeries: 10},
	}, query.Parse, reg)
	if err != nil {
		t.Fatal(err)
	}
	s.Observe([]record.Record{
		rec("", "api", "500", "10"), rec("", "api", "503", "5"), rec("", "web", "200", "7"),
		rec("", "web", "502", "1"), rec("", "db", "500", "1"), // db: a third series, past max_series
		rec("acme", "api", "500", "1"),
	})
	want := `
# HELP sluice_log_http_errors Metric from logs http_errors: n of status:>=500 | stats count() as n by service
# TYPE sluice_log_http_errors counter
sluice_log_http_errors{service="api"} 2
sluice_log_http_errors{service="web"} 1
# HELP sluice_log_metric_series_dropped_total Records of a metric from logs not counted because they would have made a new label set past its max_series.
# TYPE sluice_log_metric_series_dropped_total counter
sluice_log_metric_series_dropped_total{metric="acme"} 0
sluice_log_metric_series_dropped_total{metric="http_errors"} 1
sluice_log_metric_series_dropped_total{metric="traffic"} 0
# HELP sluice_log_traffic_bytes Metric from logs traffic: bytes of * | stats count() as requests, sum(bytes) as bytes
# TYPE sluice_log_traffic_bytes counter
sluice_log_traffic_bytes 24
# HELP sluice_log_traffic_requests Metric from logs traffic: requests of * | stats count() as requests, sum(bytes) as bytes
# TYPE sluice_log_traffic_requests counter
sluice_log_traffic_requests 5
# HELP sluice_log_acme Metric from logs acme: count() of * | stats count()
# TYPE sluice_log_acme counter
sluice_log_acme 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
}

func TestNewRefuses(t *testing.T) {
	for _, q := range []string{`error`, `* | stats avg(x)`, `* | stats count() by _time:1m`, `* | stats count() | limit 1`} {
		if _, err := New([]config.MetricConfig{{Name: "m", Query: q, MaxSeries: 1}}, query.Parse, prometheus.NewRegistry()); err == nil {
			t.Errorf("%q: no error", q)
		}
	}
}

func BenchmarkObserve(b *testing.B) {
	s, err := New([]config.MetricConfig{{Name: "http_errors", Query: `status:>=500 | stats count() as n by service`, MaxSeries: 1000}}, query.Parse, prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	batch := make([]record.Record, 1000)
	for i := range batch {
		batch[i] = rec("", []string{"api", "web", "db"}[i%3], []string{"200", "500", "404"}[i%3], "1")
	}
	b.ReportAllocs()
	for b.Loop() {
		s.Observe(batch)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/record")
}
