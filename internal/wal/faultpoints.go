package wal

import "github.com/sluice-log/sluice/internal/faultpoint"

// Fault points (internal/faultpoint; inert unless SLUICE_FAULT names one).
var (
	// faultWritten: a group and its commit are written, not yet fsynced.
	faultWritten = faultpoint.New("wal.written")
	// faultSynced: a group is written and fsynced; its Appends have not
	// returned yet.
	faultSynced = faultpoint.New("wal.synced")
)
