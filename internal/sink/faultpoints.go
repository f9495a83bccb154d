package sink

import "github.com/sluice-log/sluice/internal/faultpoint"

// Crash points of the store sink's protocol (StoreSink), for tests that
// kill the real binary there (internal/faultpoint; inert unless
// SLUICE_FAULT names one).
var (
	// The batch's Pending range is durable; nothing was ingested.
	faultPending = faultpoint.New("sink.store.pending")
	// Ingest returned: the batch is fsynced in the WAL; Done is not
	// advanced.
	faultIngested = faultpoint.New("sink.store.ingested")
	// Done is advanced and durable; Write has not returned (nothing
	// committed to Kafka).
	faultDone = faultpoint.New("sink.store.done")
	// The new watermark file is written and fsynced under its temporary
	// name, not yet renamed over the old one (hit 1 is a batch's Pending
	// write, hit 2 its Done write).
	faultWatermarkSynced = faultpoint.New("sink.watermark.synced")
)
