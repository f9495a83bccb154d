package wal

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/sluice-log/sluice/internal/durable"
)

// Release says that every record with seq <= upTo is durable elsewhere.
// It deletes each segment that holds only such records, oldest first, and
// fsyncs the directory. When the active segment holds only such records it
// is rotated first, so that releasing everything brings Size to zero while
// a new empty segment, named by the next seq, keeps seqs increasing across
// restarts.
func (l *Log) Release(upTo uint64) error {
	l.fileMu.Lock()
	defer l.fileMu.Unlock()
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	// After a failed write the active segment may end in garbage, which
	// must stay the last segment's tail for Open to truncate it.
	rotate := l.failed == nil && !l.segs[len(l.segs)-1].empty() && l.written <= upTo
	next := l.written + 1
	l.mu.Unlock()
	if rotate {
		if err := l.rotate(next); err != nil {
			return fmt.Errorf("wal: release up to seq %d: %w", upTo, err)
		}
	}

	// Segment i holds seqs up to the next segment's first minus one.
	var removed int
	var freed int64
	var err error
	for removed < len(l.segs)-1 && l.segs[removed+1].first-1 <= upTo {
		s := l.segs[removed]
		if rerr := os.Remove(l.segmentPath(s.first)); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			err = fmt.Errorf("wal: release up to seq %d: delete segment: %w", upTo, rerr)
			break
		}
		removed++
		freed += s.size - s.hdr
	}
	if removed == 0 {
		return err
	}
	l.mu.Lock()
	l.segs = append(l.segs[:0:0], l.segs[removed:]...)
	l.diskSize -= freed
	l.mu.Unlock()
	if serr := durable.SyncDir(l.dir); err == nil {
		err = serr
	}
	return err
}

// probeSize is what Probe writes: room for a typical batch.
const probeSize = 1 << 20

// Probe reports whether the log's directory takes a write again after
// appends failed for space: it writes, fsyncs and removes a file of
// probeSize bytes beside the segments.
func (l *Log) Probe() error {
	path := filepath.Join(l.dir, "probe.tmp")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("wal: probe: %w", err)
	}
	_, err = f.Write(make([]byte, probeSize))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if rerr := os.Remove(path); err == nil && rerr != nil {
		err = rerr
	}
	if err != nil {
		return fmt.Errorf("wal: probe: %w", err)
	}
	return nil
}
