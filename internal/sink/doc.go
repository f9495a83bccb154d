// Package sink owns where an indexer writes what it consumed: the embedded
// store (through the pipeline's WAL, with a per-partition offset watermark so
// that replays never duplicate) and Elasticsearch or OpenSearch (through the
// official clients' bulk indexers, with _id derived from the Kafka
// coordinates so that replays overwrite instead of duplicating).
//
// A sink knows records and their Kafka coordinates (topic, partition,
// offset). It must not know Kafka clients, consumer groups or offsets
// commits: the consumer in internal/kafka commits only after Write returned,
// and produces what a sink refused for good to the dead-letter topic.
package sink
