package wal

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// TestRemovedFromUnder: once the active segment or the log's directory is
// removed while the log is open (an rm -rf of the data directory), the
// next batch is not acknowledged but answered with ErrRemoved, and so is
// every later one, whether the group's write went to the unlinked file or
// a rotation found the directory gone.
func TestRemovedFromUnder(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no link counts")
	}
	for _, tc := range []struct {
		name    string
		opts    Options
		remove  func(l *Log) error
		written uint64 // WrittenSeq after the refused batches
	}{
		{"segment removed", Options{}, func(l *Log) error { return os.Remove(l.segmentPath(1)) }, 5},
		{"directory removed", Options{}, func(l *Log) error { return os.RemoveAll(l.dir) }, 5},
		// The segment is full: the next batch rotates, which finds no directory.
		{"directory removed before a rotation", Options{SegmentSize: 64}, func(l *Log) error { return os.RemoveAll(l.dir) }, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "wal")
			l := openLog(t, dir, tc.opts)
			appendSeqs(t, l, 5)
			if err := tc.remove(l); err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				first, last, err := l.Append(context.Background(), testBatch(6, 10))
				if !errors.Is(err, ErrRemoved) || first != 0 || last != 0 {
					t.Fatalf("Append %d after the removal: seqs %d-%d, %v; want ErrRemoved and no seqs", i, first, last, err)
				}
			}
			if got := l.WrittenSeq(); got != tc.written {
				t.Fatalf("WrittenSeq %d, want %d", got, tc.written)
			}
			if err := l.Close(); !errors.Is(err, ErrRemoved) {
				t.Fatalf("Close: %v, want ErrRemoved", err)
			}
		})
	}
}
