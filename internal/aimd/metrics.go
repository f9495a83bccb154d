package aimd

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/promreg"
)

// Metrics exports the limit of every limiter of a process in one family,
// sluice_sink_concurrency, labelled with what each limits: the search
// sinks (elasticsearch, opensearch), the gateway's Kafka producer (kafka),
// the agent's output (http, forward).
type Metrics struct{ limit *prometheus.GaugeVec }

// NewMetrics registers the family on reg, or takes the one already there:
// the packages that own limiters each ask for it.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "sluice_sink_concurrency",
		Help: "The adaptive (AIMD) limit of a sender, by sink: bulk requests in flight for elasticsearch and opensearch (sink.elasticsearch.adaptive_concurrency); for kafka, the gateway's bound on bytes in flight in 64ths of kafka.max_in_flight_bytes (kafka.adaptive_in_flight); for http, the agent's batches in flight (output.max_concurrency).",
	}, []string{"sink"})
	return &Metrics{limit: promreg.Register(reg, g)}
}

// Track exports l's limit as sluice_sink_concurrency{sink=name}; nil m
// exports nothing.
func (m *Metrics) Track(l *Limiter, name string) {
	if m == nil {
		return
	}
	g := m.limit.WithLabelValues(name)
	l.OnChange(func(n int) { g.Set(float64(n)) })
}
