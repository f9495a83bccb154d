package connlimit

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/promreg"
)

// Metrics are the connection counters of every listener, labelled by its
// name. A nil *Metrics records nothing.
type Metrics struct {
	open, max       *prometheus.GaugeVec
	shedN, refusedN *prometheus.CounterVec
}

// NewMetrics registers the metrics with reg; a second call with the same
// registry returns the same metrics.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		open: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sluice_listener_connections",
			Help: "Open client connections, by listener (http, forward, syslog_tcp, syslog_tls, otlp_grpc).",
		}, []string{"listener"}),
		max: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sluice_listener_max_connections",
			Help: "The bound on a listener's open connections (its max_connections, or its share of the file descriptors; see docs/security.md); 0 means none.",
		}, []string{"listener"}),
		shedN: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_listener_connections_shed_total",
			Help: "Connections closed at a listener's bound to make room for a new one: each the connection idle the longest.",
		}, []string{"listener"}),
		refusedN: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_listener_connections_refused_total",
			Help: "New connections closed at a listener's bound because every open one was busy.",
		}, []string{"listener"}),
	}
	if reg != nil {
		m.open = promreg.Register(reg, m.open)
		m.max = promreg.Register(reg, m.max)
		m.shedN = promreg.Register(reg, m.shedN)
		m.refusedN = promreg.Register(reg, m.refusedN)
	}
	return m
}

func (m *Metrics) opened(name string, delta float64) {
	if m != nil {
		m.open.WithLabelValues(name).Add(delta)
	}
}

func (m *Metrics) shedOne(name string) {
	if m != nil {
		m.shedN.WithLabelValues(name).Inc()
	}
}

func (m *Metrics) refused(name string) {
	if m != nil {
		m.refusedN.WithLabelValues(name).Inc()
	}
}

func (m *Metrics) setMax(name string, n int) {
	if m != nil {
		m.max.WithLabelValues(name).Set(float64(max(n, 0)))
	}
}
