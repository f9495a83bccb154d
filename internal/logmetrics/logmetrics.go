// Package logmetrics derives counters from logs: each metrics entry is a
// filter and a stats pipe of count()/sum() evaluated on every record as it
// is ingested (Observe, on the ingest path), exported as a Prometheus
// collector named sluice_log_<name> with the by fields as labels. The
// number of label sets is bounded per metric. It owns no export protocol
// (internal/metricpush pushes what the registry gathers) and must not
// know where records come from.
package logmetrics

import (
	"fmt"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/query"
	"github.com/sluice-log/sluice/internal/record"
)

// Set is the configured metrics; it is a prometheus.Collector.
type Set struct {
	metrics []*metric
	dropped *prometheus.CounterVec
}

type metric struct {
	cfg   config.MetricConfig
	c     *query.Counter
	descs []*prometheus.Desc // per column

	mu     sync.Mutex
	series map[string]*series // by group values joined with \x00
	// per-batch scratch, used under mu
	group  []string
	deltas []float64
	key    []byte
}

type series struct {
	labels []string
	vals   []float64
}

// New compiles the metrics entries; parse parses their queries.
func New(cfgs []config.MetricConfig, parse func(string) (*query.Query, error), reg prometheus.Registerer) (*Set, error) {
	s := &Set{dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_log_metric_series_dropped_total",
		Help: "Records of a metric from logs not counted because they would have made a new label set past its max_series."}, []string{"metric"})}
	for _, mc := range cfgs {
		q, err := parse(mc.Query)
		if err != nil {
			return nil, fmt.Errorf("metrics %s: query: %w", mc.Name, err)
		}
		c, err := query.NewCounter(q)
		if err != nil {
			return nil, fmt.Errorf("metrics %s: %w", mc.Name, err)
		}
		m := &metric{cfg: mc, c: c, series: map[string]*series{}, group: make([]string, len(c.By)), deltas: make([]float64, len(c.Columns))}
		labels := make([]string, len(c.By))
		for i, b := range c.By {
			labels[i] = promLabel(b)
		}
		for _, col := range c.Columns {
			name := "sluice_log_" + mc.Name
			if len(c.Columns) > 1 {
				name += "_" + promLabel(col)
			}
			m.descs = append(m.descs, prometheus.NewDesc(name, fmt.Sprintf("Metric from logs %s: %s of %s", mc.Name, col, mc.Query), labels, nil))
		}
		s.metrics = append(s.metrics, m)
		s.dropped.WithLabelValues(mc.Name)
	}
	reg.MustRegister(s, s.dropped)
	return s, nil
}

// promLabel makes a field name a Prometheus label name.
func promLabel(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	if len(b) == 0 {
		return "_"
	}
	return string(b)
}

// Empty reports whether no metric is configured.
func (s *Set) Empty() bool { return len(s.metrics) == 0 }

// Observe counts a batch of records just made durable.
func (s *Set) Observe(recs []record.Record) {
	for _, m := range s.metrics {
		m.observe(recs, s)
	}
}

func (m *metric) observe(recs []record.Record, s *Set) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range recs {
		r := &recs[i]
		if r.Tenant != m.cfg.Tenant || !m.c.Observe(r, m.group, m.deltas) {
			continue
		}
		m.key = m.key[:0]
		for _, g := range m.group {
			m.key = append(m.key, g...)
			m.key = append(m.key, 0)
		}
		se := m.series[string(m.key)]
		if se == nil {
			if len(m.series) >= m.cfg.MaxSeries {
				s.dropped.WithLabelValues(m.cfg.Name).Inc()
				continue
			}
			se = &series{labels: make([]string, len(m.group)), vals: make([]float64, len(m.deltas))}
			for j, g := range m.group {
				se.labels[j] = strings.Clone(g)
			}
			m.series[string(m.key)] = se
		}
		for j, d := range m.deltas {
			se.vals[j] += d
		}
	}
}

// Describe sends nothing: the collector is unchecked, its label sets come
// and go with the records.
func (s *Set) Describe(chan<- *prometheus.Desc) {}

// Collect exports every series' counters.
func (s *Set) Collect(ch chan<- prometheus.Metric) {
	for _, m := range s.metrics {
		m.mu.Lock()
		for _, se := range m.series {
			for j, d := range m.descs {
				ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, se.vals[j], se.labels...)
			}
		}
		m.mu.Unlock()
	}
}
