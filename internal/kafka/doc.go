// Package kafka owns Sluice's two Kafka roles: the gateway's Producer, an
// ingest.Sink that hands every record to Kafka and returns only after Kafka
// acknowledged all of them (acks=all, idempotent), and the indexer's
// Consumer, a consumer group member that decodes messages, hands them to a
// sink.Sink and commits offsets only after the sink made them durable.
// It also owns the message format: one JSON object per message.
//
// It must not know receivers' protocols, the WAL or the store (the store
// sink in internal/sink does), nor HTTP.
package kafka
