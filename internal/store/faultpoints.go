package store

import "github.com/sluice-log/sluice/internal/faultpoint"

// Crash points of the store's commit protocol, for tests that kill the
// real binary there (internal/faultpoint; inert unless SLUICE_FAULT names
// one).
var (
	// A flush wrote and renamed its parts; no manifest entry names them yet.
	faultFlushPartsWritten = faultpoint.New("store.flush.parts_written")
	// A flush's manifest entry is durable; the WAL it covers is not yet
	// released.
	faultFlushCommitted = faultpoint.New("store.flush.committed")
	// A merge wrote its part; the manifest still names the inputs.
	faultMergePartWritten = faultpoint.New("store.merge.part_written")
	// A merge's manifest entry is durable; the inputs' files still exist.
	faultMergeCommitted = faultpoint.New("store.merge.committed")
)
