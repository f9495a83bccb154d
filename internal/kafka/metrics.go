package kafka

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics of the gateway and indexer roles. Names are stable: KEDA and HPA
// rules scale indexers on sluice_kafka_consumer_lag_total.
type Metrics struct {
	produceLatency     prometheus.Histogram
	produced           prometheus.Counter
	produceErrors      prometheus.Counter
	inFlightBytes      prometheus.Gauge
	backpressure       prometheus.Counter
	lag                *prometheus.GaugeVec
	lagTotal           prometheus.Gauge
	consumed           prometheus.Counter
	sinkLatency        *prometheus.HistogramVec
	sinkErrors         *prometheus.CounterVec
	deadLettered       *prometheus.CounterVec
	rebalances         *prometheus.CounterVec
	assignedPartitions prometheus.Gauge
}

// NewMetrics registers the Kafka roles' metrics.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	latency := prometheus.ExponentialBuckets(0.0005, 2.5, 14)
	m := &Metrics{
		produceLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "sluice_kafka_produce_latency_seconds", Help: "Gateway: time from handing a request's records to Kafka until Kafka acknowledged all of them.", Buckets: latency,
		}),
		produced: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sluice_kafka_produced_records_total", Help: "Gateway: records Kafka acknowledged.",
		}),
		produceErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sluice_kafka_produce_errors_total", Help: "Gateway: records Kafka did not acknowledge (their request got an error).",
		}),
		inFlightBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sluice_kafka_produce_in_flight_bytes", Help: "Gateway: bytes handed to Kafka and not yet acknowledged; at kafka.max_in_flight_bytes ingest answers 429.",
		}),
		backpressure: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sluice_kafka_produce_backpressure_total", Help: "Gateway: requests refused with 429 because Kafka was slow or unreachable.",
		}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sluice_kafka_consumer_lag", Help: "Indexer: messages in an assigned partition not yet processed (high watermark minus next offset).",
		}, []string{"topic", "partition"}),
		lagTotal: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sluice_kafka_consumer_lag_total", Help: "Indexer: sum of sluice_kafka_consumer_lag over the partitions this indexer owns; scale indexers on it.",
		}),
		consumed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sluice_kafka_consumed_records_total", Help: "Indexer: messages consumed and committed.",
		}),
		sinkLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "sluice_sink_latency_seconds", Help: "Indexer: time for the sink to make one consumed batch durable.", Buckets: latency,
		}, []string{"sink"}),
		sinkErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_sink_errors_total", Help: "Indexer: batches the sink failed to make durable (retried, never committed).",
		}, []string{"sink"}),
		deadLettered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_kafka_dead_lettered_records_total", Help: "Indexer: messages produced to the dead-letter topic, by reason (decode or sink).",
		}, []string{"reason"}),
		rebalances: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_kafka_rebalances_total", Help: "Indexer: partitions assigned, revoked or lost in consumer group rebalances.",
		}, []string{"event"}),
		assignedPartitions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sluice_kafka_assigned_partitions", Help: "Indexer: partitions this indexer owns.",
		}),
	}
	reg.MustRegister(m.produceLatency, m.produced, m.produceErrors, m.inFlightBytes, m.backpressure,
		m.lag, m.lagTotal, m.consumed, m.sinkLatency, m.sinkErrors, m.deadLettered, m.rebalances, m.assignedPartitions)
	return m
}
