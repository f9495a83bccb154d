package wal

import (
	"context"
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// failingFile stands in for the active segment: while failWrite is set, a
// write stores only its first half and returns ENOSPC; with failSync set,
// the next fsync returns ENOSPC (once, as Linux reports a writeback error).
type failingFile struct {
	*os.File
	failWrite, failSync bool
}

func (f *failingFile) Write(p []byte) (int, error) {
	if f.failWrite {
		n, _ := f.File.Write(p[:len(p)/2])
		return n, syscall.ENOSPC
	}
	return f.File.Write(p)
}

func (f *failingFile) Sync() error {
	if f.failSync {
		f.failSync = false
		return syscall.ENOSPC
	}
	return f.File.Sync()
}

// TestWriteFailureIsUndone: a batch whose write or fsync fails is answered
// with ErrWrite and leaves nothing behind (no record of it is ever
// replayed, after a restart either), and the log takes the next batch at
// once with the seqs the failed one had.
func TestWriteFailureIsUndone(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(f *failingFile, on bool)
	}{
		{"write", func(f *failingFile, on bool) { f.failWrite = on }},
		{"fsync", func(f *failingFile, on bool) { f.failSync = on }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			l := openLog(t, dir, Options{})
			appendSeqs(t, l, 5)
			path := l.segmentPath(1)
			before, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			l.fileMu.Lock()
			ff := &failingFile{File: l.active.(*os.File)}
			l.active = ff
			tc.set(ff, true)
			l.fileMu.Unlock()

			if _, _, err := l.Append(context.Background(), testBatch(6, 200)); !errors.Is(err, ErrWrite) || !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("Append on a full disk: %v, want ErrWrite wrapping ENOSPC", err)
			}
			if after, err := os.Stat(path); err != nil || after.Size() != before.Size() {
				t.Fatalf("segment is %d bytes after the failed batch, want %d as before (%v)", after.Size(), before.Size(), err)
			}
			if got := l.Stats().WriteErrors; got != 1 {
				t.Fatalf("WriteErrors %d, want 1", got)
			}
			checkReplay(t, l, 0, 5)

			l.fileMu.Lock()
			tc.set(ff, false)
			l.fileMu.Unlock()
			appendSeqs(t, l, 3) // seqs 6 to 8: the failed batch's seqs are handed out again
			checkReplay(t, l, 0, 8)
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			l2 := openLog(t, dir, Options{})
			checkReplay(t, l2, 0, 8)
		})
	}
}

func testKey(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// TestSignedBatches: with a signing key, batches replay after a restart,
// and every way of slipping a record in from outside (without a commit,
// with an unsigned commit, with a commit signed by another key, into a
// segment of the first format) is refused by Open and reported by Verify.
func TestSignedBatches(t *testing.T) {
	key := testKey(t)
	pub := key.Public().(ed25519.PublicKey)
	build := func(t *testing.T) string {
		dir := t.TempDir()
		l := openLog(t, dir, Options{SigningKey: key})
		appendSeqs(t, l, 4)
		appendSeqs(t, l, 3)
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	appendTo := func(t *testing.T, path string, b []byte) {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(b); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	forged := batchBytes(8, testBatch(8, 1))

	dir := build(t)
	if r, err := Verify(dir, pub); err != nil || len(r.Problems) != 0 || r.LastSeq != 7 {
		t.Fatalf("Verify of an untouched log: %+v %v", r, err)
	}
	l := openLog(t, dir, Options{SigningKey: key})
	checkReplay(t, l, 0, 7)
	l.Close()

	for _, tc := range []struct {
		name     string
		tamper   func(t *testing.T, dir string)
		openErr  bool // Open refuses it; otherwise Open drops the records
		mentions string
	}{
		{"record without commit", func(t *testing.T, dir string) {
			appendTo(t, filepath.Join(dir, segmentName(1)), forged)
		}, false, "have no signed batch commit"},
		{"unsigned commit", func(t *testing.T, dir string) {
			appendTo(t, filepath.Join(dir, segmentName(1)), appendControl(forged, rangePayload(ctlCommit, 8, 8, nil, nil)))
		}, true, "not signed"},
		{"commit signed by another key", func(t *testing.T, dir string) {
			other := testKey(t)
			appendTo(t, filepath.Join(dir, segmentName(1)), appendControl(forged, rangePayload(ctlCommit, 8, 8, make([]byte, 32), other)))
		}, true, "does not verify"},
		{"segment of the first format", func(t *testing.T, dir string) {
			// The first format holds whole records only.
			if err := os.WriteFile(filepath.Join(dir, segmentName(8)), appendEntry(nil, 8, new(testRecord(8))), 0o644); err != nil {
				t.Fatal(err)
			}
		}, true, "before batches were signed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := build(t)
			tc.tamper(t, dir)
			r, err := Verify(dir, pub)
			if err != nil || len(r.Problems) != 1 || !strings.Contains(r.Problems[0].String(), tc.mentions) {
				t.Fatalf("Verify: %v %+v, want one problem mentioning %q", err, r.Problems, tc.mentions)
			}
			var logs syncBuffer
			l, err := Open(dir, Options{SigningKey: key}, newTextLogger(&logs))
			if tc.openErr {
				if !errors.Is(err, ErrSignature) {
					if err == nil {
						l.Close()
					}
					t.Fatalf("Open: %v, want ErrSignature", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			checkReplay(t, l, 0, 7)
			if !strings.Contains(logs.String(), "without a signed commit") {
				t.Fatalf("no error logged for the dropped records: %s", logs.String())
			}
		})
	}
}
