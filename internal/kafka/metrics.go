package kafka

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics of the gateway and indexer roles. Names are stable: KEDA and HPA
// rules scale indexers on sluice_kafka_group_lag.
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
	groupLag           *prometheus.GaugeVec
	groupPartitionLag  *prometheus.GaugeVec
	groupLagRefreshed  *prometheus.GaugeVec
	groupLagErrors     prometheus.Counter
	sinkFailing        prometheus.Gauge
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
			Name: "sluice_kafka_consumer_lag", Help: "Indexer: messages in a partition this indexer owns beyond what it fetched (high watermark minus next offset), as of its last fetch of that partition; for scaling use sluice_kafka_group_lag.",
		}, []string{"topic", "partition"}),
		lagTotal: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sluice_kafka_consumer_lag_total", Help: "Indexer: sum of sluice_kafka_consumer_lag over the partitions this indexer owns; for scaling use sluice_kafka_group_lag.",
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
		groupLag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sluice_kafka_group_lag", Help: "Indexer: the whole consumer group's lag read from the brokers: end offset minus committed offset, summed over every partition of the topic (every indexer of the group exports the same figure; scale on max() of it, not sum()).",
		}, []string{"group"}),
		groupPartitionLag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sluice_kafka_group_partition_lag", Help: "Indexer: the consumer group's lag on one partition, read from the brokers (end offset minus committed offset).",
		}, []string{"group", "topic", "partition"}),
		groupLagRefreshed: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sluice_kafka_group_lag_refreshed_timestamp_seconds", Help: "Indexer: when sluice_kafka_group_lag was last read from the brokers (Unix time); a failed refresh keeps the last figures.",
		}, []string{"group"}),
		groupLagErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sluice_kafka_group_lag_errors_total", Help: "Indexer: failed reads of the group's lag from the brokers.",
		}),
		sinkFailing: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sluice_sink_failing_since_timestamp_seconds", Help: "Indexer: when the sink (or the dead-letter produce) started failing without a success since (Unix time); 0 while it works. Failing longer than sink.unready_after makes /readyz answer 503.",
		}),
	}
	reg.MustRegister(m.produceLatency, m.produced, m.produceErrors, m.inFlightBytes, m.backpressure,
		m.lag, m.lagTotal, m.consumed, m.sinkLatency, m.sinkErrors, m.deadLettered, m.rebalances, m.assignedPartitions,
		m.groupLag, m.groupPartitionLag, m.groupLagRefreshed, m.groupLagErrors, m.sinkFailing)
	return m
}
