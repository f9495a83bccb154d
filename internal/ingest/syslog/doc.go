// Package syslog receives syslog over UDP, TCP and TLS: it frames the byte
// stream (RFC 6587 octet counting or newline framing, RFC 5425 over TLS),
// parses each message (RFC 5424 or RFC 3164, detected per message), turns it
// into a record and hands batches of records to an ingest.Sink.
//
// It owns the syslog wire formats, the per-connection batching and the
// backpressure policy of a protocol that has no acknowledgements: a stream
// connection stops reading until the sink accepts its batch, a datagram that
// cannot be buffered is dropped and counted.
//
// It must not know what the sink does with records (WAL, store, Kafka), nor
// how the process is configured: the caller opens the sockets and passes a
// Config.
package syslog
