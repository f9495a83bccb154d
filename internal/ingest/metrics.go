package ingest

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/promreg"
)

// Metrics are the counters every HTTP receiver shares, labelled by protocol.
// A nil *Metrics records nothing.
type Metrics struct {
	requests *prometheus.CounterVec
	records  *prometheus.CounterVec
	rejected *prometheus.CounterVec
	bytes    *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewMetrics creates the receiver metrics and registers them with reg (when
// not nil). Calling it again with the same registry returns metrics backed
// by the collectors already registered, so receivers may each call it.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_ingest_requests_total",
			Help: "Ingest HTTP requests by protocol and response status code.",
		}, []string{"protocol", "code"}),
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_ingest_records_total",
			Help: "Records accepted (durable in the sink) by protocol.",
		}, []string{"protocol"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_ingest_rejected_records_total",
			Help: "Records rejected for their content, by protocol and reason.",
		}, []string{"protocol", "reason"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_ingest_bytes_total",
			Help: "Request body bytes read (after decompression) by protocol.",
		}, []string{"protocol"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sluice_ingest_request_duration_seconds",
			Help:    "Time from the start of an ingest request to its answer.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 8),
		}, []string{"protocol"}),
	}
	if reg != nil {
		m.requests = promreg.Register(reg, m.requests)
		m.records = promreg.Register(reg, m.records)
		m.rejected = promreg.Register(reg, m.rejected)
		m.bytes = promreg.Register(reg, m.bytes)
		m.duration = promreg.Register(reg, m.duration)
	}
	return m
}

// Request counts one answered request and its duration.
func (m *Metrics) Request(protocol string, code int, d time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(protocol, strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(protocol).Observe(d.Seconds())
}

// Records counts n accepted records.
func (m *Metrics) Records(protocol string, n int) {
	if m == nil || n == 0 {
		return
	}
	m.records.WithLabelValues(protocol).Add(float64(n))
}

// Rejected counts n records rejected for reason.
func (m *Metrics) Rejected(protocol, reason string, n int) {
	if m == nil || n == 0 {
		return
	}
	m.rejected.WithLabelValues(protocol, reason).Add(float64(n))
}

// Bytes counts n bytes of request body.
func (m *Metrics) Bytes(protocol string, n int64) {
	if m == nil || n == 0 {
		return
	}
	m.bytes.WithLabelValues(protocol).Add(float64(n))
}
