package wal

import (
	"fmt"
	"os"
	"time"
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

// writeGroup appends g to the active segment, rotating first if the
// segment would grow past SegmentSize, and fsyncs it. l.fileMu must be held.
func (l *Log) writeGroup(g *group) error {
	size := int64(len(g.buf))
	if size == 0 {
		return nil
	}
	l.mu.Lock()
	failed := l.failed
	l.mu.Unlock()
	if failed != nil {
		return l.dropQueued(size, fmt.Errorf("wal: append refused after an earlier failure: %w", failed))
	}
	if active := l.segs[len(l.segs)-1].size; active > 0 && active+size > l.opts.SegmentSize {
		if err := l.rotate(g.first); err != nil {
			return l.fail(size, 0, err)
		}
	}
	n, err := l.active.Write(g.buf)
	if err != nil {
		return l.fail(size, int64(n), fmt.Errorf("wal: write segment: %w", err))
	}
	start := time.Now()
	err = l.active.Sync()
	took := time.Since(start)
	if err != nil {
		return l.fail(size, size, fmt.Errorf("wal: fsync segment: %w", err))
	}
	faultSynced.Hit()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.queued -= size
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

// fail records a failed write or fsync of a group of size bytes, of which
// written reached the file. The failure is sticky: after a failed fsync the
// page cache may have dropped the data, so nothing written since the last
// good fsync can be trusted until Open recovers.
func (l *Log) fail(size, written int64, err error) error {
	l.log.Error("wal: write failed; refusing appends until reopened", "err", err.Error())
	l.mu.Lock()
	defer l.mu.Unlock()
	l.queued -= size
	l.diskSize += written
	l.segs[len(l.segs)-1].size += written
	l.failed = err
	return err
}

// rotate makes a new, empty segment named first the active one. The old
// active segment has been fsynced by every write. l.fileMu must be held.
func (l *Log) rotate(first uint64) error {
	path := l.segmentPath(first)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("wal: create segment: %w", err)
	}
	old := l.active
	l.active = f
	l.mu.Lock()
	l.segs = append(l.segs, segment{first: first})
	l.mu.Unlock()
	if err := old.Close(); err != nil {
		l.log.Warn("wal: close previous segment", "err", err.Error())
	}
	// Until the directory is fsynced, a crash could lose the new file and
	// with it records acknowledged after this point.
	return syncDir(l.dir)
}
