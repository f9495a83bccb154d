package main

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestE2EDiskFull runs the real server on a 24 MiB tmpfs, fills the
// filesystem, and sends batches of 200 records: each is answered 503 and
// stores nothing (a write cut short by the full disk is undone), /readyz
// answers 503, and within 10 s of the space coming back /readyz and ingest
// work again without a restart. Every acknowledged batch is then stored
// whole and every refused one not at all, also after a restart. Needs root
// (mount); skipped where tmpfs cannot be mounted.
func TestE2EDiskFull(t *testing.T) {
	needBinary(t)
	// Not parallel: it times the recovery (10 s) and mounts a tmpfs.
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=24m"); err != nil {
		t.Skipf("cannot mount a tmpfs (%v): needs root", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(mnt, syscall.MNT_DETACH) })
	dataDir := filepath.Join(mnt, "data")
	s := startServer(t, dataDir, "store:\n  flush_interval: 200ms\n  merge_interval: 300ms\n")

	const batchSize = 200
	pad := string(bytes.Repeat([]byte("x"), 300))
	send := func(b int) int {
		var body bytes.Buffer
		for i := range batchSize {
			fmt.Fprintf(&body, `{"_msg":"diskfull %d/%d %s","b":%d,"i":%d}`+"\n", b, i, pad, b, i)
		}
		resp, err := http.Post(s.url+"/insert/jsonline", "application/x-ndjson", &body)
		if err != nil {
			t.Fatalf("batch %d: %v", b, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	readyz := func() int {
		resp, err := http.Get(s.url + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	acked := map[int]bool{}
	next := 0
	for range 5 {
		if code := send(next); code != 200 {
			t.Fatalf("batch %d before the disk filled: %d", next, code)
		}
		acked[next] = true
		next++
	}

	// Fill what is left of the filesystem.
	filler := filepath.Join(mnt, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	f.Close()

	refused := 0
	for range 20 {
		code := send(next)
		switch code {
		case 200:
			acked[next] = true
		case 503:
			refused++
		default:
			t.Fatalf("batch %d on a full disk: %d, want 200 or 503", next, code)
		}
		next++
	}
	if refused == 0 {
		t.Fatal("no batch was refused on a full disk: the test did not fill it")
	}
	if code := readyz(); code != 503 {
		t.Fatalf("/readyz on a full disk: %d, want 503", code)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	freed := time.Now()
	for readyz() != 200 {
		if time.Since(freed) > 10*time.Second {
			t.Fatalf("/readyz still 503 10 s after the space came back")
		}
		time.Sleep(100 * time.Millisecond)
	}
	for send(next) != 200 {
		if time.Since(freed) > 10*time.Second {
			t.Fatalf("ingest still refused 10 s after the space came back")
		}
		time.Sleep(100 * time.Millisecond)
		next++
	}
	acked[next] = true
	next++
	t.Logf("ready and ingesting again %v after the space came back; %d of 20 batches refused on the full disk", time.Since(freed).Round(time.Millisecond), refused)

	check := func(s *server) {
		t.Helper()
		got := map[int]int{}
		for _, r := range s.queryRows("* | stats count() as n by b") {
			b, err := strconv.Atoi(fmt.Sprint(r["b"]))
			if err != nil {
				t.Fatalf("row without batch id: %v", r)
			}
			got[b] = int(r["n"].(float64))
		}
		for b := range next {
			want := 0
			if acked[b] {
				want = batchSize
			}
			if got[b] != want {
				t.Errorf("batch %d (acknowledged %v): %d records stored, want %d", b, acked[b], got[b], want)
			}
		}
	}
	check(s)
	s.kill()
	s = startServer(t, dataDir, "")
	check(s)
	if out, err := sluiceVerify(t, dataDir); err != nil {
		t.Errorf("verify after the full disk: %v\n%s", err, out)
	}
	s.stop()
}
