package store

import (
	"context"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// TestRemovedFromUnder: a flush into a store whose data directory, partition
// directory or manifest was removed while it is open (an rm -rf under a
// running server) fails with ErrRemoved, commits nothing, recreates no
// directory and leaves no part file behind; so does the next flush.
func TestRemovedFromUnder(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no link counts")
	}
	for _, tc := range []struct {
		name   string
		remove string // under the store's directory; "" for the directory itself
		gone   string // a path that must stay absent
	}{
		{"store directory removed", "", ""},
		{"partitions removed", partitionsDir, partitionsDir},
		{"manifest removed", manifestName, manifestName},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "store")
			s := openTest(t, dir, Options{})
			defer s.Close()
			rng := rand.New(rand.NewPCG(1, 2))
			s.Append(genRecords(rng, 200, 0), 200)
			if err := s.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			before := filesUnder(t, dir)
			if err := os.RemoveAll(filepath.Join(dir, tc.remove)); err != nil {
				t.Fatal(err)
			}
			s.Append(genRecords(rng, 200, 200), 400)
			for i := range 2 {
				if err := s.Flush(context.Background()); !errors.Is(err, ErrRemoved) {
					t.Fatalf("flush %d after the removal: %v, want ErrRemoved", i, err)
				}
			}
			if got := s.DurableSeq(); got != 200 {
				t.Fatalf("DurableSeq %d, want 200 as before the removal", got)
			}
			if _, err := os.Stat(filepath.Join(dir, tc.gone)); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("%s exists again after the flushes (%v)", filepath.Join(dir, tc.gone), err)
			}
			after := filesUnder(t, dir)
			for f := range after {
				if !before[f] {
					t.Errorf("file %s left behind by a failed flush", f)
				}
			}
		})
	}
}

// filesUnder returns the files under dir's partitions.
func filesUnder(t *testing.T, dir string) map[string]bool {
	t.Helper()
	files := map[string]bool{}
	_ = filepath.WalkDir(filepath.Join(dir, partitionsDir), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files[path] = true
		}
		return nil
	})
	return files
}
