package aimd

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestMetricsShared: every package owning a limiter asks for the family on
// the process's registry; the second asks get the first's.
func TestMetricsShared(t *testing.T) {
	reg := prometheus.NewRegistry()
	a, b := NewMetrics(reg), NewMetrics(reg)
	a.Track(New(Config{Initial: 3, Max: 8}), "elasticsearch")
	b.Track(New(Config{Initial: 5, Max: 8}), "kafka")
	if n := testutil.CollectAndCount(reg, "sluice_sink_concurrency"); n != 2 {
		t.Errorf("%d series, want 2", n)
	}
	if v := testutil.ToFloat64(b.limit.WithLabelValues("elasticsearch")); v != 3 {
		t.Errorf("elasticsearch limit %v through the second Metrics, want 3", v)
	}
}
