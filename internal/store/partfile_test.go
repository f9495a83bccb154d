package store

import (
	"bytes"
	"fmt"
	"sync/atomic"
	"testing"
)

// TestFileCacheBound opens more parts than the bound: released files are
// closed least recently used first, pinned ones never, and a forgotten
// part's file is closed.
func TestFileCacheBound(t *testing.T) {
	var closed atomic.Int32
	c := newFileCache(3, func(p *part) (partFile, error) {
		return countingFile{bytes.NewReader([]byte(p.name)), &closed}, nil
	})
	parts := make([]*part, 6)
	for i := range parts {
		parts[i] = &part{name: fmt.Sprintf("%016x", i)}
	}
	read := func(p *part) {
		t.Helper()
		f, err := c.acquire(p)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 16)
		if _, err := f.ReadAt(buf, 0); err != nil || string(buf) != p.name {
			t.Fatalf("read %q, %v", buf, err)
		}
		c.release(p)
	}
	for _, p := range parts {
		read(p)
		if st := c.stats(); st.Open > 3 {
			t.Fatalf("%d files open, bound 3", st.Open)
		}
	}
	if st := c.stats(); st.Open != 3 || st.Opens != 6 || st.Closes != 3 || closed.Load() != 3 {
		t.Fatalf("stats %+v, %d closed", st, closed.Load())
	}
	// Parts 3, 4 and 5 are open; reading 3 makes 4 the least recent.
	read(parts[3])
	read(parts[0])
	if parts[4].file.f != nil || parts[3].file.f == nil {
		t.Fatal("did not close the least recently used file")
	}
	// Pinned files stay open beyond the bound until released.
	for _, p := range parts {
		if _, err := c.acquire(p); err != nil {
			t.Fatal(err)
		}
	}
	if st := c.stats(); st.Open != 6 {
		t.Fatalf("%d files open while 6 are pinned", st.Open)
	}
	for _, p := range parts {
		c.release(p)
	}
	if st := c.stats(); st.Open != 3 {
		t.Fatalf("%d files open after the reads ended, bound 3", st.Open)
	}
	for _, p := range parts {
		c.forget(p)
	}
	if st := c.stats(); st.Open != 0 || int(closed.Load()) != int(st.Opens) {
		t.Fatalf("after forgetting every part: %+v, %d closed", st, closed.Load())
	}
}

type countingFile struct {
	*bytes.Reader
	closed *atomic.Int32
}

func (f countingFile) Close() error { f.closed.Add(1); return nil }
