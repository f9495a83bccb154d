package wal

import (
	"context"
	"errors"
	"testing"

	"github.com/sluice-log/sluice/internal/record"
)

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		batches []int
	}{
		{"one record", []int{1}},
		{"one batch", []int{100}},
		{"many batches", []int{1, 7, 50, 3, 100}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := openLog(t, t.TempDir(), Options{})
			var total uint64
			for _, n := range tt.batches {
				first, last := mustAppend(t, l, testBatch(int(total)+1, n))
				if first != total+1 || last != total+uint64(n) {
					t.Fatalf("Append got seqs [%d, %d], want [%d, %d]", first, last, total+1, total+uint64(n))
				}
				total += uint64(n)
			}
			if got := l.LastSeq(); got != total {
				t.Fatalf("LastSeq %d, want %d", got, total)
			}
			checkReplay(t, l, 0, total)
			checkReplay(t, l, total/2, total)
			checkReplay(t, l, total, total)
			st := l.Stats()
			if st.Appends != uint64(len(tt.batches)) || st.Records != total || st.BytesWritten != uint64(l.Size()) {
				t.Fatalf("Stats %+v after %d appends of %d records, size %d", st, len(tt.batches), total, l.Size())
			}
		})
	}
}

func TestAppendEmptyBatch(t *testing.T) {
	l := openLog(t, t.TempDir(), Options{})
	first, last, err := l.Append(context.Background(), nil)
	if first != 0 || last != 0 || err != nil {
		t.Fatalf("Append(nil) = %d, %d, %v; want 0, 0, nil", first, last, err)
	}
	if l.LastSeq() != 0 || l.Size() != 0 {
		t.Fatalf("empty append changed the log: LastSeq %d Size %d", l.LastSeq(), l.Size())
	}
}

func TestRestartContinuesSeqs(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, Options{SegmentSize: 2000})
	appendSeqs(t, l, 30)
	appendSeqs(t, l, 30)
	size := l.Size()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openLog(t, dir, Options{SegmentSize: 2000})
	if l.LastSeq() != 60 || l.Size() != size {
		t.Fatalf("after reopen LastSeq %d Size %d, want 60 %d", l.LastSeq(), l.Size(), size)
	}
	appendSeqs(t, l, 10)
	checkReplay(t, l, 0, 70)
}

func TestRotationBySegmentSize(t *testing.T) {
	dir := t.TempDir()
	const segSize = 4096
	l := openLog(t, dir, Options{SegmentSize: segSize})
	for range 40 {
		appendSeqs(t, l, 5)
	}
	files := segmentFiles(t, dir)
	if len(files) < 3 || l.Stats().Segments != len(files) {
		t.Fatalf("%d segment files, Stats.Segments %d; want several and equal", len(files), l.Stats().Segments)
	}
	// A batch is much smaller than segSize, so no segment may exceed it.
	for i, s := range l.segs {
		if s.size > segSize {
			t.Fatalf("segment %d has %d bytes, over SegmentSize %d", i, s.size, segSize)
		}
	}
	if l.Size() != dirSize(t, dir) {
		t.Fatalf("Size %d, files hold %d bytes", l.Size(), dirSize(t, dir))
	}
	checkReplay(t, l, 0, 200)
	checkReplay(t, l, 123, 200)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openLog(t, dir, Options{SegmentSize: segSize})
	checkReplay(t, l, 0, 200)
}

func TestClosed(t *testing.T) {
	l := openLog(t, t.TempDir(), Options{})
	appendSeqs(t, l, 3)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Append(context.Background(), testBatch(4, 1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close: %v, want ErrClosed", err)
	}
	if err := l.Release(3); !errors.Is(err, ErrClosed) {
		t.Fatalf("Release after Close: %v, want ErrClosed", err)
	}
	if err := l.Replay(0, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Replay after Close: %v, want ErrClosed", err)
	}
	if err := l.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close: %v, want ErrClosed", err)
	}
}

func TestReplayStopsAtCallbackError(t *testing.T) {
	l := openLog(t, t.TempDir(), Options{})
	appendSeqs(t, l, 10)
	stop := errors.New("stop")
	var n int
	err := l.Replay(0, func(uint64, *record.Record) error {
		n++
		if n == 4 {
			return stop
		}
		return nil
	})
	if err != stop || n != 4 {
		t.Fatalf("Replay returned %v after %d calls, want the callback's error after 4", err, n)
	}
}
