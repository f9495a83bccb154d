package forward

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// connMetrics are the forward listener's own counters; records and rejected
// records go to the shared ingest.Metrics.
type connMetrics struct {
	accepted     prometheus.Counter
	refused      *prometheus.CounterVec
	closed       *prometheus.CounterVec
	open         prometheus.Gauge
	backpressure prometheus.Counter
	heartbeats   prometheus.Counter
}

func newConnMetrics(reg prometheus.Registerer) (*connMetrics, error) {
	m := &connMetrics{
		accepted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sluice_forward_connections_accepted_total",
			Help: "Forward connections accepted.",
		}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_forward_connections_refused_total",
			Help: "Forward connections closed before any message, by reason (tls, auth_failed). Connections refused or shed at forward.max_connections are counted in sluice_listener_connections_refused_total and sluice_listener_connections_shed_total.",
		}, []string{"reason"}),
		closed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_forward_connections_closed_total",
			Help: "Forward connections closed, by reason (eof, idle, shed, shutdown, malformed, message_too_large, bad_compression, truncated, sink_error, write_error, …).",
		}, []string{"reason"}),
		open: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sluice_forward_connections_open",
			Help: "Forward connections open now.",
		}),
		backpressure: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sluice_forward_backpressure_waits_total",
			Help: "Times a forward batch was refused by the buffer and retried after its Retry-After, without reading from that connection meanwhile.",
		}),
		heartbeats: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sluice_forward_heartbeats_total",
			Help: "UDP heartbeat pings answered.",
		}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.accepted, m.refused, m.closed, m.open, m.backpressure, m.heartbeats} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("register forward metrics: %w", err)
			}
		}
	}
	return m, nil
}
