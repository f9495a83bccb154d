package wal

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/sluice-log/sluice/internal/record"
)

// Replay calls fn for every record with seq > after, in seq order, and
// stops at the first error fn returns, which it returns unchanged. fn gets
// a fresh record each time and may keep it. Replay reads only what was
// fsynced when it started; it may run beside Appends, but a concurrent
// Release of records it has yet to read makes it fail.
func (l *Log) Replay(after uint64, fn func(seq uint64, r *record.Record) error) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	segs := slices.Clone(l.segs)
	l.mu.Unlock()
	for i, s := range segs {
		if i+1 < len(segs) && segs[i+1].first-1 <= after {
			continue
		}
		if err := l.replaySegment(s, after, fn); err != nil {
			return err
		}
	}
	return nil
}

func (l *Log) replaySegment(s segment, after uint64, fn func(seq uint64, r *record.Record) error) error {
	if s.empty() {
		return nil
	}
	path := l.segmentPath(s.first)
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("wal: replay: open segment: %w", err)
	}
	defer f.Close()
	// Only committed batches lie within s.size: Open truncated the rest,
	// and the size grows only once a batch and its commit are fsynced.
	er := newEntryReader(io.NewSectionReader(f, 0, s.size), s.size)
	want := s.first
	// In format 3 a record is encoded against the batch's last shared
	// entry; each shared entry gets its own value, which the records
	// decoded against it keep.
	var sh *record.Shared
	for {
		off := er.off
		e, err := er.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err == nil && e.control {
			switch {
			case len(e.body) == 0:
			case e.body[0] == ctlGap:
				var r rangeEntry
				if r, err = parseRange(e.body); err == nil {
					want = r.last + 1
				}
				sh = nil
			case e.body[0] == ctlCommit:
				sh = nil
			case e.body[0] == ctlShared && s.version >= formatVersion:
				sh = new(record.Shared)
				if derr := record.DecodeShared(e.body[1:], sh); derr != nil {
					err = fmt.Errorf("%w: shared entry: %w", ErrCorrupt, derr)
				}
			}
			if err == nil {
				continue
			}
		}
		if err == nil && e.seq != want {
			err = fmt.Errorf("%w: seq %d, want %d", ErrCorrupt, e.seq, want)
		}
		if err == nil && s.version >= formatVersion && sh == nil {
			err = fmt.Errorf("%w: seq %d has no shared entry before it in its batch", ErrCorrupt, e.seq)
		}
		want++
		if err == nil && e.seq > after {
			var r record.Record
			err = decodeRecord(e.body, &r, sh)
			if err == nil {
				if ferr := fn(e.seq, &r); ferr != nil {
					return ferr
				}
			}
		}
		if err != nil {
			return fmt.Errorf("wal: replay: segment %s at byte offset %d: %w", path, off, err)
		}
	}
}

// decodeRecord decodes an entry's record, which must use all of body:
// encoded against sh, or whole if sh is nil.
func decodeRecord(body []byte, r *record.Record, sh *record.Shared) error {
	var n int
	var err error
	if sh != nil {
		n, err = record.DecodeBinaryShared(body, r, sh)
	} else {
		n, err = record.Decode(body, r)
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if n != len(body) {
		return fmt.Errorf("%w: %d bytes after the record", ErrCorrupt, len(body)-n)
	}
	return nil
}
