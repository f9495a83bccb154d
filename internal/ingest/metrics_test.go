package ingest

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// gathered returns the value of every counter and the sample count of every
// histogram in reg, by metric name.
func gathered(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if c := m.GetCounter(); c != nil {
				out[mf.GetName()] += c.GetValue()
			}
			if h := m.GetHistogram(); h != nil {
				out[mf.GetName()] += float64(h.GetSampleCount())
			}
		}
	}
	return out
}

func TestMetricsShareRegistry(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	a, b := NewMetrics(reg), NewMetrics(reg)
	a.Records("jsonline", 3)
	b.Records("jsonline", 2)
	a.Rejected("jsonline", "invalid_json", 1)
	a.Bytes("jsonline", 100)
	b.Request("jsonline", 200, time.Millisecond)
	want := map[string]float64{
		"sluice_ingest_records_total":            5,
		"sluice_ingest_rejected_records_total":   1,
		"sluice_ingest_bytes_total":              100,
		"sluice_ingest_requests_total":           1,
		"sluice_ingest_request_duration_seconds": 1,
	}
	got := gathered(t, reg)
	for name, v := range want {
		if got[name] != v {
			t.Errorf("%s = %v, want %v", name, got[name], v)
		}
	}
	var none *Metrics
	none.Records("jsonline", 1) // a nil *Metrics records nothing and must not panic
}
