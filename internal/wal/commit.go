package wal

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/sluice-log/sluice/internal/durable"
)

// maxSpare bounds the buffer kept for the next group, so that one burst
// does not pin its memory for the life of the log.
const maxSpare = 4 << 20

// run is the committer: the one goroutine that writes and fsyncs groups.
// While it is busy, Appends gather in the next group, so concurrent
// writers share fsyncs without any of them waiting for a timer.
func (l *Log) run() {
	defer close(l.stopped)
	for {
		select {
		case <-l.wake:
		case <-l.quit:
			l.commit()
			return
		}
		if l.opts.SyncInterval > 0 {
			t := time.NewTimer(l.opts.SyncInterval)
			select {
			case <-t.C:
			case <-l.quit:
				t.Stop()
			}
		}
		l.commit()
	}
}

// commit writes the current group, if any, and wakes its Appends.
func (l *Log) commit() {
	l.mu.Lock()
	g := l.cur
	l.cur = nil
	l.mu.Unlock()
	if g == nil {
		return
	}
	l.fileMu.Lock()
	g.err = l.writeGroup(g)
	l.fileMu.Unlock()
	if cap(g.buf) <= maxSpare {
		l.mu.Lock()
		l.spare = g.buf[:0]
		l.mu.Unlock()
	}
	close(g.done)
}

// writeGroup appends g and its commit to the active segment, rotating
// first if the segment would grow past SegmentSize, and fsyncs it. A failed
// write or fsync is undone (see undo). l.fileMu must be held.
func (l *Log) writeGroup(g *group) error {
	queued := int64(len(g.buf))
	if queued == 0 {
		return nil
	}
	l.mu.Lock()
	failed := l.failed
	l.mu.Unlock()
	if failed != nil {
		return l.dropQueued(queued, fmt.Errorf("wal: append refused after an earlier failure: %w", failed))
	}
	var digest []byte
	if l.opts.SigningKey != nil {
		sum := sha256.Sum256(g.buf)
		digest = sum[:]
	}
	g.buf = appendControl(g.buf, rangePayload(ctlCommit, g.first, g.last, digest, l.opts.SigningKey))
	size := int64(len(g.buf))
	if s := l.segs[len(l.segs)-1]; !s.empty() && s.size+size > l.opts.SegmentSize {
		if err := l.rotate(g.first); err != nil {
			if _, serr := os.Stat(l.dir); errors.Is(serr, fs.ErrNotExist) {
				return l.removed(queued, l.dir)
			}
			return l.undo(g, queued, err)
		}
	}
	_, err := l.active.Write(g.buf)
	if err != nil {
		return l.undo(g, queued, fmt.Errorf("wal: write segment: %w", err))
	}
	faultWritten.Hit()
	start := time.Now()
	err = l.active.Sync()
	took := time.Since(start)
	if err != nil {
		return l.undo(g, queued, fmt.Errorf("wal: fsync segment: %w", err))
	}
	// One fstat per group commit (next to its fsync; not benchmarked): a
	// segment that was removed while open takes writes and fsyncs like
	// any file, but nothing in it survives, so the group must not be
	// acknowledged.
	if gone, err := durable.Unlinked(l.active); err != nil {
		return l.undo(g, queued, fmt.Errorf("wal: stat segment: %w", err))
	} else if gone {
		return l.removed(queued, l.segmentPath(l.segs[len(l.segs)-1].first))
	}
	faultSynced.Hit()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.queued -= queued
	l.diskSize += size
	l.segs[len(l.segs)-1].size += size
	l.written = g.last
	l.stats.Appends += uint64(g.appends)
	l.stats.Records += uint64(g.records)
	l.stats.BytesWritten += uint64(size)
	l.stats.Fsyncs++
	l.stats.FsyncSeconds += took.Seconds()
	return nil
}

func (l *Log) dropQueued(size int64, err error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.queued -= size
	return err
}

// undo takes back a group whose write or fsync failed (queued is the size
// Append counted for it): the active segment is truncated to its size
// before the write and fsynced, which needs no free space, so a full disk
// costs the batches in flight and nothing else. The group queued behind g
// fails too and the seqs of both are handed out again, so that seqs stay
// consecutive on disk. Every record before g was fsynced by an earlier
// successful fsync and stays durable. Only if the truncation itself fails
// does the log stop taking appends until it is reopened.
func (l *Log) undo(g *group, queued int64, cause error) error {
	off := l.segs[len(l.segs)-1].size
	terr := l.active.Truncate(off)
	if terr == nil {
		terr = l.active.Sync()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.queued -= queued
	l.stats.WriteErrors++
	if terr != nil {
		l.failed = errors.Join(cause, terr)
		l.log.Error("wal: write failed and could not be undone; refusing appends until reopened", "err", l.failed.Error())
		return l.failed
	}
	if c := l.cur; c != nil {
		l.cur = nil
		l.queued -= int64(len(c.buf))
		c.err = fmt.Errorf("%w: an earlier batch's write failed: %w", ErrWrite, cause)
		close(c.done)
	}
	l.nextSeq = g.first
	l.log.Warn("wal: write failed; the batch was not stored and appends continue", "err", cause.Error(), "seqs", fmt.Sprintf("%d-%d", g.first, g.last))
	return fmt.Errorf("%w: %w", ErrWrite, cause)
}

// removed fails the group being written (queued is the size Append
// counted for it) and every later Append with ErrRemoved: path, the active
// segment or the log's directory, was removed while the log had it open.
// Nothing is undone: the file is gone with whatever the group wrote.
func (l *Log) removed(queued int64, path string) error {
	err := fmt.Errorf("wal: the write-ahead log's file %s was %w (directory %s); nothing written since is durable: restart the server",
		path, ErrRemoved, l.dir)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.queued -= queued
	l.stats.WriteErrors++
	if l.failed == nil {
		l.failed = err
		l.log.Error("wal: the active segment was removed from under the log; refusing appends until restarted", "err", err.Error())
	}
	return err
}

// rotate makes a new, empty segment named first the active one. The old
// active segment has been fsynced by every write. l.fileMu must be held.
func (l *Log) rotate(first uint64) error {
	f, err := l.createSegment(first)
	if err != nil {
		return fmt.Errorf("wal: create segment: %w", err)
	}
	old := l.active
	l.active = f
	hdr := int64(len(l.header))
	l.mu.Lock()
	l.segs = append(l.segs, segment{first: first, size: hdr, hdr: hdr, version: formatVersion})
	l.mu.Unlock()
	if err := old.Close(); err != nil {
		l.log.Warn("wal: close previous segment", "err", err.Error())
	}
	// Until the directory is fsynced, a crash could lose the new file and
	// with it records acknowledged after this point.
	return durable.SyncDir(l.dir)
}
