package wal

import (
	"context"
	"errors"
	"testing"

	"github.com/sluice-log/sluice/internal/record"
)

func TestRelease(t *testing.T) {
	tests := []struct {
		name         string
		upTo         uint64
		wantSegments int // -1: all kept; -2: some deleted, some kept; else how many are left
	}{
		{"nothing", 0, -1},
		{"inside the first segment", 3, -1},
		{"part of the log", 25, -2},
		{"everything", 60, 1},
		{"beyond everything", 1000, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			l := openLog(t, dir, Options{SegmentSize: 1000})
			for range 12 {
				appendSeqs(t, l, 5)
			}
			before := l.Stats().Segments
			sizeBefore := l.Size()
			if err := l.Release(tt.upTo); err != nil {
				t.Fatalf("Release: %v", err)
			}
			got := l.Stats().Segments
			switch {
			case tt.wantSegments == -1 && got != before:
				t.Fatalf("%d segments, want all %d kept", got, before)
			case tt.wantSegments == -2 && (got >= before || got < 2):
				t.Fatalf("%d segments of %d left, want some deleted and some kept", got, before)
			case tt.wantSegments > 0 && got != tt.wantSegments:
				t.Fatalf("%d segments left, want %d", got, tt.wantSegments)
			}
			if got := segmentFiles(t, dir); len(got) != l.Stats().Segments {
				t.Fatalf("%d files, Stats.Segments %d", len(got), l.Stats().Segments)
			}
			if l.Size() != dirSize(t, dir) || (got < before) != (l.Size() < sizeBefore) {
				t.Fatalf("Size %d (was %d), files hold %d", l.Size(), sizeBefore, dirSize(t, dir))
			}
			if tt.upTo >= 60 && l.Size() != 0 {
				t.Fatalf("Size %d after releasing everything, want 0", l.Size())
			}
			// Every unreleased record must still replay.
			after := min(tt.upTo, 60)
			checkReplay(t, l, after, 60)
			appendSeqs(t, l, 5)
			checkReplay(t, l, after, 65)
		})
	}
}

func TestReleaseEverythingThenReopen(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, Options{SegmentSize: 1000})
	for range 3 {
		appendSeqs(t, l, 5)
		if err := l.Release(l.LastSeq()); err != nil {
			t.Fatal(err)
		}
		if l.Size() != 0 {
			t.Fatalf("Size %d after releasing everything", l.Size())
		}
	}
	// Releasing an empty log must not rotate again.
	if err := l.Release(l.LastSeq()); err != nil {
		t.Fatal(err)
	}
	if files := segmentFiles(t, dir); len(files) != 1 {
		t.Fatalf("%d segment files, want the one empty active segment", len(files))
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openLog(t, dir, Options{SegmentSize: 1000})
	if l.LastSeq() != 15 {
		t.Fatalf("LastSeq %d after reopening a fully released log, want 15", l.LastSeq())
	}
	if got := replayAll(t, l, 0); len(got) != 0 {
		t.Fatalf("replayed %d released records", len(got))
	}
	first, _ := mustAppend(t, l, testBatch(16, 1))
	if first != 16 {
		t.Fatalf("first seq after reopen %d, want 16", first)
	}
	checkReplay(t, l, 15, 16)
}

func TestErrFullAndRecovery(t *testing.T) {
	batch := int64(len(batchBytes(1, testBatch(1, 10))))
	// One batch per segment, so that Release can free whole batches.
	l := openLog(t, t.TempDir(), Options{MaxSize: 3*batch + batch/2, SegmentSize: batch})
	for range 3 {
		appendSeqs(t, l, 10)
	}
	sizeFull := l.Size()
	_, _, err := l.Append(context.Background(), testBatch(31, 10))
	if !errors.Is(err, ErrFull) {
		t.Fatalf("Append over MaxSize: %v, want ErrFull", err)
	}
	if l.LastSeq() != 30 || l.Size() != sizeFull {
		t.Fatalf("failed Append changed the log: LastSeq %d Size %d", l.LastSeq(), l.Size())
	}
	if err := l.Release(20); err != nil {
		t.Fatal(err)
	}
	if l.Size() >= sizeFull {
		t.Fatalf("Size %d after Release, was %d", l.Size(), sizeFull)
	}
	appendSeqs(t, l, 10)
	checkReplay(t, l, 20, 40)
}

func TestErrBatchTooLarge(t *testing.T) {
	huge := testBatch(1, 1)
	huge[0].Message = string(make([]byte, 5000))
	tests := []struct {
		name string
		recs []record.Record
	}{
		{"one record over MaxSize", huge},
		{"many records over MaxSize", testBatch(1, 200)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := openLog(t, t.TempDir(), Options{MaxSize: 4000})
			if _, _, err := l.Append(context.Background(), tt.recs); !errors.Is(err, ErrBatchTooLarge) {
				t.Fatalf("Append: %v, want ErrBatchTooLarge", err)
			}
			if l.LastSeq() != 0 || l.Size() != 0 {
				t.Fatalf("failed Append changed the log: LastSeq %d Size %d", l.LastSeq(), l.Size())
			}
			appendSeqs(t, l, 1)
			checkReplay(t, l, 0, 1)
		})
	}
}
