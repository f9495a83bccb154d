package durable

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// TestUnlinked: an open file is unlinked once it, or its directory with
// it, is removed; renamed within its directory, it is not.
func TestUnlinked(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no link counts")
	}
	for _, tc := range []struct {
		name   string
		change func(dir, path string) error
		want   bool
	}{
		{"untouched", func(string, string) error { return nil }, false},
		{"renamed", func(dir, path string) error { return os.Rename(path, filepath.Join(dir, "other")) }, false},
		{"file removed", func(_, path string) error { return os.Remove(path) }, true},
		{"directory removed", func(dir, _ string) error { return os.RemoveAll(dir) }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "d")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "f")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := tc.change(dir, path); err != nil {
				t.Fatal(err)
			}
			if got, err := Unlinked(f); err != nil || got != tc.want {
				t.Fatalf("Unlinked: %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}
