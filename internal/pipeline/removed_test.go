package pipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/sluice-log/sluice/internal/store"
	"github.com/sluice-log/sluice/internal/wal"
)

// TestRemovedFromUnder: once the data directory, or the WAL's or the
// store's part of it, is removed under a running pipeline, no batch is
// acknowledged any more (the WAL's refusal, or the store's at the next
// flush), the pipeline is not ready, and it stays so.
func TestRemovedFromUnder(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no link counts")
	}
	for _, tc := range []struct {
		name      string
		remove    string // under the data directory; "" for all of it
		walErr    bool   // the next Ingest fails with wal.ErrRemoved
		flushErr  bool   // the next Flush fails with store.ErrRemoved
		wantAfter error  // what a later Ingest wraps
	}{
		{"data directory", "", true, true, wal.ErrRemoved},
		{"wal", "wal", true, false, wal.ErrRemoved},
		{"store", "store", false, true, store.ErrRemoved},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := openTestIn(t, dir, Options{})
			ctx := context.Background()
			if err := p.Ingest(ctx, batch(10, 0)); err != nil {
				t.Fatal(err)
			}
			if err := os.RemoveAll(filepath.Join(dir, tc.remove)); err != nil {
				t.Fatal(err)
			}
			err := p.Ingest(ctx, batch(10, 10))
			if tc.walErr != errors.Is(err, wal.ErrRemoved) {
				t.Fatalf("Ingest after the removal: %v; want wal.ErrRemoved: %v", err, tc.walErr)
			}
			if err := p.Flush(ctx); tc.flushErr != errors.Is(err, store.ErrRemoved) {
				t.Fatalf("Flush after the removal: %v; want store.ErrRemoved: %v", err, tc.flushErr)
			}
			if p.Ready() {
				t.Fatal("ready after the removal")
			}
			if err := p.Ingest(ctx, batch(10, 20)); !errors.Is(err, tc.wantAfter) {
				t.Fatalf("a later Ingest: %v, want %v", err, tc.wantAfter)
			}
		})
	}
}
