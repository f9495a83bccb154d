package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestE2EDataDirRemoved runs the real server, removes its data directory
// (rm -rf) while it takes writes, and checks that no batch is acknowledged
// after that: each is answered 503 naming the removal, /readyz is 503,
// sluice_data_removed is 1, and the flushes that follow recreate no
// partition directory or part file in the removed data directory.
func TestE2EDataDirRemoved(t *testing.T) {
	needBinary(t)
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	s := startServer(t, dataDir, "store:\n  flush_interval: 100ms\n")
	send := func(b int) (int, string) {
		var body strings.Builder
		for i := range 50 {
			fmt.Fprintf(&body, `{"_msg":"removed %d/%d","b":%d}`+"\n", b, i, b)
		}
		code, answer, _ := s.post("/insert/jsonline", "application/x-ndjson", []byte(body.String()))
		return code, answer
	}
	if code, answer := send(0); code != 200 {
		t.Fatalf("batch before the removal: %d %s", code, answer)
	}
	if err := os.RemoveAll(dataDir); err != nil {
		t.Fatal(err)
	}
	for b := 1; b <= 3; b++ {
		code, answer := send(b)
		if code != 503 || !strings.Contains(answer, "removed from under the server") || !strings.Contains(answer, "restart the server") {
			t.Fatalf("batch %d after the removal: %d %q, want 503 saying the WAL was removed", b, code, answer)
		}
		if b == 1 {
			t.Logf("answer: %s", answer)
		}
	}
	resp, err := http.Get(s.url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Fatalf("/readyz after the removal: %d, want 503", resp.StatusCode)
	}
	if v := metric(t, s, "sluice_data_removed"); v != 1 {
		t.Fatalf("sluice_data_removed %v, want 1", v)
	}
	time.Sleep(500 * time.Millisecond) // flushes run every 100 ms
	if _, err := os.Stat(filepath.Join(dataDir, "store", "partitions")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the store's partitions exist again after the removal (%v)", err)
	}
	s.kill()
}
