package kafka

import "github.com/sluice-log/sluice/internal/faultpoint"

// Crash points of the indexer's batch protocol, for tests that kill the
// real binary there (internal/faultpoint; inert unless SLUICE_FAULT names
// one).
var (
	// The sink made the batch durable and refused messages are in the
	// dead-letter topic; the offsets are not committed.
	faultCommit = faultpoint.New("kafka.commit")
	// The offsets are committed (or the commit failed and was logged).
	faultCommitted = faultpoint.New("kafka.committed")
)
