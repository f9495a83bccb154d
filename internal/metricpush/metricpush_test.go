package metricpush

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestFormats(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_log_http_errors", Help: "h"}, []string{"service", "empty"})
	c.WithLabelValues("api gw;x", "").Add(3)
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "lat", Help: "h", Buckets: []float64{1}})
	h.Observe(0.5)
	reg.MustRegister(c, h)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1700000000, 0)
	var g, i bytes.Buffer
	gw, iw := bufio.NewWriter(&g), bufio.NewWriter(&i)
	for _, s := range Samples(fams) {
		writeGraphite(gw, "sluice", s, now)
		writeInflux(iw, "sluice", s, now)
	}
	gw.Flush()
	iw.Flush()
	wantG := strings.Join([]string{
		"sluice.lat_bucket;le=1 1 1700000000",
		"sluice.lat_bucket;le=+Inf 1 1700000000",
		"sluice.lat_sum 0.5 1700000000",
		"sluice.lat_count 1 1700000000",
		"sluice.sluice_log_http_errors;service=api_gw_x 3 1700000000", ""}, "\n")
	if g.String() != wantG {
		t.Errorf("graphite:\n%s\nwant\n%s", g.String(), wantG)
	}
	wantI := strings.Join([]string{
		"sluice.lat_bucket,le=1 value=1 1700000000000000000",
		"sluice.lat_bucket,le=+Inf value=1 1700000000000000000",
		"sluice.lat_sum value=0.5 1700000000000000000",
		"sluice.lat_count value=1 1700000000000000000",
		`sluice.sluice_log_http_errors,service=api\ gw;x value=3 1700000000000000000`, ""}, "\n")
	if i.String() != wantI {
		t.Errorf("influx:\n%s\nwant\n%s", i.String(), wantI)
	}
}
