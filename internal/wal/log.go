package wal

import (
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"github.com/sluice-log/sluice/internal/durable"
	"github.com/sluice-log/sluice/internal/record"
)

// Log is a write-ahead log in one directory. Its methods are safe for
// concurrent use; one process at a time may open a directory.
type Log struct {
	dir  string
	opts Options
	log  *slog.Logger

	wake    chan struct{} // an Append queued records for the committer
	quit    chan struct{} // Close asks the committer to flush and stop
	stopped chan struct{} // the committer has stopped

	// fileMu serialises everything that touches segment files: the
	// committer's write+fsync and rotations, Release and Close. It is
	// taken before mu, and never held by Append, so that appenders can
	// queue up while a write+fsync runs.
	fileMu sync.Mutex
	active segmentFile

	// mu guards the fields below. segs and written change only with both
	// fileMu and mu held, so holders of either may read them.
	mu       sync.Mutex
	segs     []segment // oldest first; the last one is the active segment
	nextSeq  uint64    // the seq the next appended record gets
	written  uint64    // the highest seq written and fsynced
	diskSize int64     // bytes in all segments
	queued   int64     // bytes encoded by Append but not yet on disk
	cur      *group    // the group Appends are filling; nil if none
	spare    []byte    // a buffer of an earlier group, for reuse
	closed   bool
	failed   error // sticky: after a failed write or fsync, nothing is trusted
	stats    Stats
	sh       record.Shared // Append's scratch

	pub          ed25519.PublicKey // of Options.SigningKey; nil: batches are not signed
	header       []byte            // the header entry of new segments
	rotateOnOpen bool              // the last segment is of an older format
}

// segmentFile is what the log needs of the active segment's file; a test
// may put a failing one in its place.
type segmentFile interface {
	Write(p []byte) (int, error)
	Sync() error
	Truncate(size int64) error
	Stat() (os.FileInfo, error)
	Close() error
}

// Open opens the log in dir, creating the directory and a first segment if
// needed, and recovers from a crash: a torn tail of the last segment, and
// the records of a batch whose commit was never written, are truncated
// (with a warning saying how many bytes were dropped); damage in any
// earlier segment is an error wrapping ErrCorrupt, and with
// Options.SigningKey a batch that is not signed with it is an error
// wrapping ErrSignature. A nil logger discards messages.
func Open(dir string, opts Options, log *slog.Logger) (*Log, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("wal: create directory %s: %w", dir, err)
	}
	l := &Log{
		dir:     dir,
		opts:    opts.withDefaults(),
		log:     log,
		wake:    make(chan struct{}, 1),
		quit:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	if key := l.opts.SigningKey; key != nil {
		l.pub = key.Public().(ed25519.PublicKey)
	}
	l.header = appendControl(nil, headerPayload(formatVersion, l.pub != nil))
	firsts, err := listSegments(dir)
	if err != nil {
		return nil, err
	}
	if len(firsts) == 0 {
		if err := l.createFirstSegment(); err != nil {
			return nil, err
		}
	} else if err := l.recover(firsts); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(l.segmentPath(l.segs[len(l.segs)-1].first), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, fmt.Errorf("wal: open active segment: %w", err)
	}
	l.active = f
	if l.rotateOnOpen {
		if err := l.rotate(l.nextSeq); err != nil {
			_ = f.Close()
			return nil, err
		}
	}
	go l.run()
	return l, nil
}

func (l *Log) createFirstSegment() error {
	f, err := l.createSegment(1)
	if err != nil {
		return fmt.Errorf("wal: create first segment: %w", err)
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("wal: create first segment: %w", err)
	}
	if err := durable.SyncDir(l.dir); err != nil {
		return err
	}
	l.segs = []segment{{first: 1, size: int64(len(l.header)), hdr: int64(len(l.header)), version: formatVersion}}
	l.nextSeq = 1
	return nil
}

// createSegment creates the segment named first with its header entry.
// The caller fsyncs the file (or writes a group that does) and the
// directory.
func (l *Log) createSegment(first uint64) (*os.File, error) {
	path := l.segmentPath(first)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(l.header); err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return nil, fmt.Errorf("write header of %s: %w", path, err)
	}
	return f, nil
}

// recover scans every segment, checks that seqs run on without gaps and
// that batches are committed (and signed, with a key), and sets the log's
// state from what it found.
func (l *Log) recover(firsts []uint64) error {
	var want uint64 // the first seq the next segment must have; 0 if any
	var next uint64
	for i, first := range firsts {
		if want != 0 && first != want {
			return fmt.Errorf("wal: open: %w: segment %s starts at seq %d, but the previous segment ends at seq %d",
				ErrCorrupt, l.segmentPath(first), first, want-1)
		}
		sc, err := l.scanFile(first, i == len(firsts)-1)
		if err != nil {
			return err
		}
		l.segs = append(l.segs, segment{first: first, size: sc.end, hdr: sc.hdr, version: sc.version})
		l.diskSize += sc.end - sc.hdr
		want = 0
		if sc.next > first {
			want = sc.next
		}
		next = max(next, sc.next)
	}
	l.nextSeq = max(next, firsts[len(firsts)-1])
	l.written = l.nextSeq - 1
	return nil
}

// scanFile verifies a segment file and returns what it holds. In the last
// segment, what follows the last committed batch (a torn write, or a batch
// whose commit never made it) is truncated; anywhere else damage is an
// error, as is a batch that is not signed with the log's key.
func (l *Log) scanFile(first uint64, last bool) (scan, error) {
	path := l.segmentPath(first)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return scan{}, fmt.Errorf("wal: open segment: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return scan{}, fmt.Errorf("wal: open segment: %w", err)
	}
	sc := scanSegment(f, fi.Size(), first, l.pub)
	switch {
	case sc.err != nil && (!last || !sc.torn()):
		return sc, fmt.Errorf("wal: open: segment %s at byte offset %d: %w (sluice verify names it; sluice repair rewrites the segment from its readable records)", path, sc.errOff, sc.err)
	case !last && sc.pending > 0:
		return sc, fmt.Errorf("wal: open: segment %s: %w: %d records after byte offset %d have no commit, but a later segment exists",
			path, ErrCorrupt, sc.pending, sc.end)
	case sc.end < fi.Size():
		reason := fmt.Sprintf("%d records of a batch whose commit was never written", sc.pending)
		if sc.err != nil {
			reason = fmt.Sprintf("%s, then %v", reason, sc.err)
		}
		if sc.pending > 0 && l.pub != nil {
			l.log.Error("wal: dropping records without a signed commit: a write cut short by a crash, or records added outside Sluice",
				"segment", path, "offset", sc.end, "records", sc.pending, "first_seq", sc.pendingFirst)
		}
		if err := l.truncateTail(f, path, sc.end, fi.Size(), reason); err != nil {
			return sc, err
		}
	}
	old := sc.legacy || sc.version != formatVersion
	if old && last && sc.end == sc.hdr {
		// An empty segment (or one emptied above) gets the current header,
		// so that it is written in the current format from now on.
		if err := l.rewriteHeader(f, path); err != nil {
			return sc, err
		}
		sc.legacy, sc.version, sc.hdr, sc.end = false, formatVersion, int64(len(l.header)), int64(len(l.header))
	} else if old && last {
		// A segment of an older format takes no batches of the current
		// one: appends go to a new segment from here on.
		l.rotateOnOpen = true
	}
	return sc, nil
}

// rewriteHeader writes the header into an empty segment file.
func (l *Log) rewriteHeader(f *os.File, path string) error {
	if err := f.Truncate(0); err != nil {
		return fmt.Errorf("wal: reset empty segment %s: %w", path, err)
	}
	if _, err := f.WriteAt(l.header, 0); err != nil {
		return fmt.Errorf("wal: write header of %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("wal: fsync %s: %w", path, err)
	}
	return nil
}

// truncateTail drops a torn or uncommitted tail, the trace of a crash
// during a write. Nothing in it was acknowledged, since Append returns only
// after the fsync that covers its batch's commit completes.
func (l *Log) truncateTail(f *os.File, path string, off, size int64, reason string) error {
	if err := f.Truncate(off); err != nil {
		return fmt.Errorf("wal: truncate torn tail of %s at byte offset %d: %w", path, off, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("wal: fsync %s after truncating its tail: %w", path, err)
	}
	l.log.Warn("wal: truncated torn tail of last segment",
		"segment", path, "offset", off, "dropped_bytes", size-off, "reason", reason)
	return nil
}

// Size returns the bytes of records and batch commits on disk over all
// segments (segment headers aside, so that an emptied log has size 0).
func (l *Log) Size() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.diskSize
}

// LastSeq returns the highest seq assigned so far (0 if none ever was). It
// may belong to records that are still being written.
func (l *Log) LastSeq() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.nextSeq - 1
}

// WrittenSeq returns the highest seq whose batch is written and fsynced.
func (l *Log) WrittenSeq() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.written
}

// Close writes and fsyncs what is queued, then closes the log. Appends
// waiting for that commit return normally; later calls return ErrClosed.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	l.closed = true
	l.mu.Unlock()
	close(l.quit)
	<-l.stopped
	l.fileMu.Lock()
	defer l.fileMu.Unlock()
	if err := l.active.Close(); err != nil {
		return fmt.Errorf("wal: close active segment: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.failed
}
