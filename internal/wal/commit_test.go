package wal

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/record"
)

// appendConcurrently runs writers goroutines that each append perWriter
// batches of 10 records whose Message names writer and batch, and checks
// that every record replays exactly once with consecutive seqs.
func appendConcurrently(t *testing.T, l *Log, writers, perWriter int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for b := range perWriter {
				recs := testBatch(w*1_000_000+b*1000, 10)
				first, last, err := l.Append(context.Background(), recs)
				if err == nil && last-first != 9 {
					err = errors.New("batch did not get consecutive seqs")
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := make(map[int64]bool)
	var next uint64 = 1
	err := l.Replay(0, func(seq uint64, r *record.Record) error {
		if seq != next {
			t.Fatalf("seq %d, want %d", seq, next)
		}
		next++
		if seen[r.Time] {
			t.Fatalf("record %q replayed twice", r.Message)
		}
		seen[r.Time] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := writers * perWriter * 10; len(seen) != want {
		t.Fatalf("replayed %d records, want %d", len(seen), want)
	}
}

func TestConcurrentAppends(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"group commit", Options{}},
		{"group commit with rotation", Options{SegmentSize: 8 << 10}},
		{"sync interval", Options{SyncInterval: 2 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			l := openLog(t, dir, tt.opts)
			appendConcurrently(t, l, 8, 40)
			st := l.Stats()
			if st.Appends != 8*40 || st.Records != 8*40*10 || st.Fsyncs >= st.Appends {
				t.Fatalf("Stats %+v: want 320 appends of 3200 records sharing fewer fsyncs", st)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			l = openLog(t, dir, tt.opts)
			if l.LastSeq() != 3200 {
				t.Fatalf("LastSeq %d after reopen, want 3200", l.LastSeq())
			}
		})
	}
}

// waitQueued waits until Appends have queued n bytes for the committer.
func waitQueued(t *testing.T, l *Log, n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		l.mu.Lock()
		q := l.queued
		l.mu.Unlock()
		if q == n {
			return
		}
		if q > n || time.Now().After(deadline) {
			t.Fatalf("%d bytes queued, want %d", q, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestGroupCommitSharesOneFsync(t *testing.T) {
	for _, interval := range []time.Duration{0, time.Millisecond} {
		l := openLog(t, t.TempDir(), Options{SyncInterval: interval})
		// Holding the file lock stalls the committer, as a slow fsync
		// would, so that all eight Appends are queued before it writes.
		l.fileMu.Lock()
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				if _, _, err := l.Append(context.Background(), testBatch(w*10, 10)); err != nil {
					t.Error(err)
				}
			})
		}
		var size int64
		for w := range 8 {
			size += int64(len(batchBytes(1, testBatch(w*10, 10))))
		}
		waitQueued(t, l, size)
		l.fileMu.Unlock()
		wg.Wait()
		// The committer may have taken the first Append's group before it
		// blocked on the lock; everything else shares the next fsync.
		if st := l.Stats(); st.Appends != 8 || st.Fsyncs > 2 {
			t.Fatalf("interval %v: Stats %+v, want 8 appends in at most 2 fsyncs", interval, st)
		}
	}
}

func TestAppendContextCanceledWhileWaiting(t *testing.T) {
	l := openLog(t, t.TempDir(), Options{})
	l.fileMu.Lock()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, _, err := l.Append(ctx, testBatch(1, 3))
		done <- err
	}()
	waitQueued(t, l, int64(len(batchBytes(1, testBatch(1, 3)))))
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Append: %v, want context.Canceled", err)
	}
	l.fileMu.Unlock()
	// The records were queued, so they still become durable (documented).
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openLog(t, l.dir, Options{})
	checkReplay(t, l, 0, 3)
}

func TestAppendContextCanceledBefore(t *testing.T) {
	l := openLog(t, t.TempDir(), Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := l.Append(ctx, testBatch(1, 3)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Append: %v, want context.Canceled", err)
	}
	if l.LastSeq() != 0 {
		t.Fatalf("canceled Append assigned seqs up to %d", l.LastSeq())
	}
}
