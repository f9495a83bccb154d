package process

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/promreg"
)

// Metrics count what the steps of a pipeline did, labelled by step name.
// A nil *Metrics counts nothing.
type Metrics struct {
	records    *prometheus.CounterVec
	dropped    *prometheus.CounterVec
	errors     *prometheus.CounterVec
	redactions *prometheus.CounterVec
	// reloads and loaded describe the configuration file (the server's
	// pipeline.file, watched and reloaded).
	reloads     *prometheus.CounterVec
	loaded      prometheus.Gauge
	lastSuccess prometheus.Gauge
}

// NewMetrics creates the metrics and registers them with reg (when not
// nil); a second call with the same registry shares the collectors.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_processor_records_total",
			Help: "Records a pipeline step processed (those its condition selected), by step.",
		}, []string{"step"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_processor_dropped_records_total",
			Help: "Records a pipeline step dropped as configured (drop, sample, rate_limit), by step.",
		}, []string{"step"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_processor_errors_total",
			Help: "Records a pipeline step could not process (input that does not parse, a pattern that does not match); they go on unchanged. By step.",
		}, []string{"step"}),
		redactions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_processor_redactions_total",
			Help: "Values a redact step replaced, by step and pattern.",
		}, []string{"step", "pattern"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_processor_config_reloads_total",
			Help: "Loads of the pipeline configuration file after a change, by result (ok, error: the last good configuration stays).",
		}, []string{"result"}),
		loaded: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sluice_processor_config_loaded",
			Help: "1 when the pipeline configuration file's current content is the one running, 0 when its last change failed to load (the previous configuration runs).",
		}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sluice_processor_config_last_success_timestamp_seconds",
			Help: "When the pipeline configuration running was loaded.",
		}),
	}
	if reg != nil {
		m.records = promreg.Register(reg, m.records)
		m.dropped = promreg.Register(reg, m.dropped)
		m.errors = promreg.Register(reg, m.errors)
		m.redactions = promreg.Register(reg, m.redactions)
		m.reloads = promreg.Register(reg, m.reloads)
		m.loaded = promreg.Register(reg, m.loaded)
		m.lastSuccess = promreg.Register(reg, m.lastSuccess)
	}
	return m
}

// stepCounters are one step's counters.
type stepCounters struct {
	records, dropped, errors prometheus.Counter
}

func (m *Metrics) step(name string) stepCounters {
	if m == nil {
		return stepCounters{}
	}
	return stepCounters{
		records: m.records.WithLabelValues(name),
		dropped: m.dropped.WithLabelValues(name),
		errors:  m.errors.WithLabelValues(name),
	}
}

// Redactions returns the counter of a redact step's pattern; nil without
// metrics.
func (m *Metrics) Redactions(step, pattern string) prometheus.Counter {
	if m == nil {
		return nil
	}
	return m.redactions.WithLabelValues(step, pattern)
}

func (c stepCounters) add(records, dropped, errors int) {
	if c.records == nil {
		return
	}
	if records > 0 {
		c.records.Add(float64(records))
	}
	if dropped > 0 {
		c.dropped.Add(float64(dropped))
	}
	if errors > 0 {
		c.errors.Add(float64(errors))
	}
}
