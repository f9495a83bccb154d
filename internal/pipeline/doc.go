// Package pipeline moves records from the receivers through the write-ahead
// log into the store, and owns the acknowledgement contract between them:
//
//   - Ingest returns only once the records are fsynced in the WAL (so a
//     receiver may acknowledge its client), and makes them searchable in the
//     store's in-memory head at once;
//   - records reach the store in WAL order, so that the store's durable
//     watermark never passes a record that is not in it;
//   - a background loop seals the head into parts and then releases the WAL
//     segments the parts cover; a full WAL turns into backpressure;
//   - the head's memory is bounded by configuration (Options.MaxHeadBytes):
//     at the bound, Ingest waits for a flush before its WAL append, and
//     answers with backpressure only if the flush takes longer than
//     Options.HeadWait;
//   - on start, the WAL is replayed past the store's watermark, so every
//     acknowledged record is in the store exactly once;
//   - live-tail subscribers get every stored record without ever slowing
//     ingest down.
//
// The package knows the WAL, the store and the record type; it knows nothing
// of HTTP or of any protocol.
package pipeline
