package wal

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
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
	active *os.File

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
}

// Open opens the log in dir, creating the directory and a first segment if
// needed, and recovers from a crash: a torn tail of the last segment is
// truncated (with a warning saying how many bytes were dropped); damage in
// any earlier segment is an error wrapping ErrCorrupt. A nil logger
// discards messages.
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
	go l.run()
	return l, nil
}

func (l *Log) createFirstSegment() error {
	path := l.segmentPath(1)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("wal: create first segment: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("wal: create first segment: %w", err)
	}
	if err := syncDir(l.dir); err != nil {
		return err
	}
	l.segs = []segment{{first: 1}}
	l.nextSeq = 1
	return nil
}

// recover scans every segment, checks that seqs run on without gaps, and
// sets the log's state from what it found.
func (l *Log) recover(firsts []uint64) error {
	var lastSeq uint64
	var want uint64 // the first seq the next segment must have; 0 if any
	for i, first := range firsts {
		if want != 0 && first != want {
			return fmt.Errorf("wal: open: %w: segment %s starts at seq %d, but the previous segment ends at seq %d",
				ErrCorrupt, l.segmentPath(first), first, want-1)
		}
		n, size, err := l.scanSegment(first, i == len(firsts)-1)
		if err != nil {
			return err
		}
		l.segs = append(l.segs, segment{first: first, size: size})
		l.diskSize += size
		want = 0
		if n > 0 {
			lastSeq = first + n - 1
			want = first + n
		}
	}
	l.nextSeq = max(lastSeq+1, firsts[len(firsts)-1])
	l.written = l.nextSeq - 1
	return nil
}

// scanSegment verifies every entry of a segment and returns how many it
// holds and its size. A damaged tail of the last segment is truncated.
func (l *Log) scanSegment(first uint64, last bool) (count uint64, size int64, err error) {
	path := l.segmentPath(first)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return 0, 0, fmt.Errorf("wal: open segment: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, 0, fmt.Errorf("wal: open segment: %w", err)
	}
	er := newEntryReader(f, fi.Size())
	for {
		off := er.off
		seq, _, err := er.next()
		switch {
		case err == io.EOF:
			return count, off, nil
		case errors.Is(err, ErrCorrupt) && last:
			return count, off, l.truncateTail(f, path, off, fi.Size(), err)
		case err != nil:
			return 0, 0, fmt.Errorf("wal: open: segment %s at byte offset %d: %w", path, off, err)
		case seq != first+count:
			return 0, 0, fmt.Errorf("wal: open: segment %s at byte offset %d: %w: seq %d, want %d",
				path, off, ErrCorrupt, seq, first+count)
		}
		count++
	}
}

// truncateTail drops a torn or damaged tail, the trace of a crash during a
// write. Nothing in it was acknowledged, since Append returns only after
// the fsync that covers it completes.
func (l *Log) truncateTail(f *os.File, path string, off, size int64, reason error) error {
	if err := f.Truncate(off); err != nil {
		return fmt.Errorf("wal: truncate torn tail of %s at byte offset %d: %w", path, off, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("wal: fsync %s after truncating its tail: %w", path, err)
	}
	l.log.Warn("wal: truncated torn tail of last segment",
		"segment", path, "offset", off, "dropped_bytes", size-off, "reason", reason.Error())
	return nil
}

// Size returns the bytes on disk over all segments.
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
