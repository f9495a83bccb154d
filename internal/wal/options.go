package wal

import (
	"crypto/ed25519"
	"errors"
	"time"
)

// Defaults for zero Options fields, and the largest entry a segment may hold.
const (
	DefaultSegmentSize = 64 << 20
	DefaultMaxSize     = 1 << 30
	MaxEntrySize       = 64 << 20
)

// Options configure a Log. Zero values take the defaults.
type Options struct {
	// SegmentSize: the active segment is rotated before a write would take
	// it over this size (a single commit larger than this still goes into
	// one segment). Default 64 MiB.
	SegmentSize int64
	// MaxSize bounds the bytes of all segments plus the bytes queued for
	// writing; Append returns ErrFull rather than exceed it. Default 1 GiB.
	MaxSize int64
	// SyncInterval 0 commits as soon as possible: while one write+fsync is
	// running, concurrent Appends queue up and share the next one. A
	// positive value waits this long after the first queued Append,
	// gathering more, before one write+fsync. In both modes Append returns
	// only after the fsync that covers its records.
	SyncInterval time.Duration
	// SigningKey, when set, signs every batch's commit (ed25519 over its
	// seqs and the sha256 of its entries), and Open refuses a segment
	// holding a batch that is not signed with it: records written into
	// the log from outside cannot be replayed into the store. The key
	// must not be kept in the log's directory.
	SigningKey ed25519.PrivateKey
}

func (o Options) withDefaults() Options {
	if o.SegmentSize <= 0 {
		o.SegmentSize = DefaultSegmentSize
	}
	if o.MaxSize <= 0 {
		o.MaxSize = DefaultMaxSize
	}
	if o.SyncInterval < 0 {
		o.SyncInterval = 0
	}
	return o
}

var (
	// ErrFull says that Append would take the log over MaxSize. Nothing
	// was written; the caller should push back (HTTP 429) and retry once
	// Release has freed space.
	ErrFull = errors.New("wal: log full")
	// ErrBatchTooLarge says that one batch (or one record) can never fit:
	// it is larger than MaxSize (or MaxEntrySize). Retrying will not help.
	ErrBatchTooLarge = errors.New("wal: batch too large")
	// ErrClosed is returned by every method called after Close.
	ErrClosed = errors.New("wal: log closed")
	// ErrCorrupt is wrapped by errors about damaged segment contents.
	ErrCorrupt = errors.New("wal: corrupt entry")
	// ErrWrite is wrapped by Append's error when writing or fsyncing its
	// batch failed (a full disk): nothing of the batch, nor of the batches
	// queued with it, was kept, and the log takes appends again.
	ErrWrite = errors.New("wal: write failed, batch not stored")
	// ErrRemoved is wrapped by Append's error once the log found its
	// active segment file, or its directory, removed while the log had it
	// open (an rm -rf of the data directory under a running server):
	// writes to the file still succeed, but nothing in it survives, so
	// the batch is not acknowledged and the log refuses every later
	// Append. Only a restart, which recreates the directory, recovers.
	ErrRemoved = errors.New("removed from under the server")
)
