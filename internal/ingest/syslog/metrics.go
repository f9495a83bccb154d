package syslog

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/connlimit"
	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/promreg"
)

// protocol is the label of the shared ingest metrics.
const protocol = "syslog"

// Reasons of the rejected-records metric specific to syslog.
const (
	reasonInvalid = "invalid_syslog"
	reasonDropped = "udp_buffer_full"
	reasonSink    = "sink_error"
)

// Metrics are the shared ingest counters plus syslog's connection gauges.
// A nil *Metrics records nothing.
type Metrics struct {
	ingest      *ingest.Metrics
	connections *prometheus.GaugeVec
	refused     *prometheus.CounterVec
	conns       *connlimit.Metrics // the listeners' bounds
}

// NewMetrics registers the syslog metrics with reg (when not nil); shared
// is the process's ingest metrics.
func NewMetrics(reg prometheus.Registerer, shared *ingest.Metrics) *Metrics {
	m := &Metrics{
		ingest: shared,
		connections: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sluice_syslog_connections",
			Help: "Open syslog TCP/TLS connections by transport.",
		}, []string{"transport"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_syslog_connections_closed_total",
			Help: "Syslog connections closed by the receiver, by transport and reason (shed, tls_handshake, framing, read_timeout, read_error). Connections refused or shed at syslog.max_connections are also counted in sluice_listener_connections_refused_total and sluice_listener_connections_shed_total.",
		}, []string{"transport", "reason"}),
	}
	if reg != nil {
		m.connections = promreg.Register(reg, m.connections)
		m.refused = promreg.Register(reg, m.refused)
		m.conns = connlimit.NewMetrics(reg)
	}
	return m
}

func (m *Metrics) connMetrics() *connlimit.Metrics {
	if m == nil {
		return nil
	}
	return m.conns
}

func (m *Metrics) records(n int) {
	if m != nil {
		m.ingest.Records(protocol, n)
	}
}

func (m *Metrics) rejected(reason string, n int) {
	if m != nil {
		m.ingest.Rejected(protocol, reason, n)
	}
}

func (m *Metrics) bytes(n int) {
	if m != nil {
		m.ingest.Bytes(protocol, int64(n))
	}
}

func (m *Metrics) connOpened(transport string, delta float64) {
	if m != nil {
		m.connections.WithLabelValues(transport).Add(delta)
	}
}

func (m *Metrics) closed(transport, reason string) {
	if m != nil {
		m.refused.WithLabelValues(transport, reason).Inc()
	}
}
