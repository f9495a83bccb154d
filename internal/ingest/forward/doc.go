// Package forward is the Fluentd forward protocol (v1) receiver: the TCP
// listener (optionally TLS) that Docker's fluentd log driver, Fluentd's
// out_forward and Fluent Bit's forward output send to, the optional
// HELO/PING/PONG handshake with a shared key and users, the UDP heartbeat on
// the same port, and the mapping of Fluentd events to records.
//
// It owns the msgpack framing and decoding it needs (a small bounded decoder:
// every length is checked against the bytes actually present before anything
// is allocated, and one message, compressed or not, is bounded by
// MaxMessageBytes).
//
// It hands each client batch to an ingest.Sink in one Ingest call and answers
// the chunk option's {"ack": chunk} only after Ingest returned nil. It must
// not know the write-ahead log, the store or other protocols.
package forward
