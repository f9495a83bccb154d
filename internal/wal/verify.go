package wal

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Problem is one finding of Verify in a segment file.
type Problem struct {
	Segment string // file name
	Offset  int64  // byte offset of the entry concerned
	Detail  string
}

func (p Problem) String() string {
	return fmt.Sprintf("segment %s at byte offset %d: %s", p.Segment, p.Offset, p.Detail)
}

// Report is what Verify found.
type Report struct {
	Problems []Problem
	Segments int
	// Records counts the records of committed batches; LastSeq is the
	// last of them (0 if none).
	Records uint64
	LastSeq uint64
}

// Verify reads the log in dir without changing it and reports what Open
// would refuse, and, with pub set, every record that is not covered by a
// batch signature made with its private key, including records after the
// last commit that Open would drop as a torn write: with signing on, they
// are either that or records added from outside, and only their
// signature could tell which.
func Verify(dir string, pub ed25519.PublicKey) (Report, error) {
	var r Report
	firsts, err := listSegments(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return r, nil
		}
		return r, err
	}
	r.Segments = len(firsts)
	var want uint64
	for i, first := range firsts {
		name := segmentName(first)
		if want != 0 && first != want {
			r.Problems = append(r.Problems, Problem{Segment: name, Detail: fmt.Sprintf(
				"starts at seq %d, but the segment before ends at seq %d: records are missing", first, want-1)})
		}
		sc, err := scanPath(filepath.Join(dir, name), first, pub)
		if err != nil {
			return r, err
		}
		last := i == len(firsts)-1
		switch {
		case sc.err != nil && (!last || !sc.torn()):
			r.Problems = append(r.Problems, Problem{Segment: name, Offset: sc.errOff, Detail: sc.err.Error()})
		case sc.pending > 0 && (pub != nil || !last):
			r.Problems = append(r.Problems, Problem{Segment: name, Offset: sc.end, Detail: fmt.Sprintf(
				"%d records from seq %d have no signed batch commit: records added outside Sluice, or a write cut short by a crash (the server drops them when it starts)",
				sc.pending, sc.pendingFirst)})
		}
		r.Records += sc.records
		if sc.lastSeq > 0 {
			r.LastSeq = sc.lastSeq
		}
		want = 0
		if sc.next > first {
			want = sc.next
		}
	}
	return r, nil
}

func scanPath(path string, first uint64, pub ed25519.PublicKey) (scan, error) {
	f, err := os.Open(path)
	if err != nil {
		return scan{}, fmt.Errorf("wal: verify: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return scan{}, fmt.Errorf("wal: verify: %w", err)
	}
	return scanSegment(f, fi.Size(), first, pub), nil
}
