package wal

import "github.com/sluice-log/sluice/internal/faultpoint"

// faultSynced: a group is written and fsynced; its Appends have not
// returned yet (internal/faultpoint; inert unless SLUICE_FAULT names it).
var faultSynced = faultpoint.New("wal.synced")
