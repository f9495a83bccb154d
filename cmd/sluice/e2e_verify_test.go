package main

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestE2EVerifyTamper seals three parts through the real server, then
// tampers with copies of the data directory in every way the storage issue
// lists and checks that `sluice verify` fails and names the part concerned.
func TestE2EVerifyTamper(t *testing.T) {
	needBinary(t)
	t.Parallel()
	dataDir := t.TempDir()
	// Long intervals: the test decides when parts are sealed, and no merge
	// replaces them.
	s := startServer(t, dataDir, "store:\n  flush_interval: 1h\n  merge_interval: 1h\n")
	base := time.Now().Add(-time.Hour).UTC()
	for batch := range 3 {
		var body bytes.Buffer
		for i := range 50 {
			ts := base.Add(time.Duration(batch*50+i) * time.Second).Format(time.RFC3339Nano)
			fmt.Fprintf(&body, `{"_time":%q,"_msg":"verify batch %d line %d","service":"verify","host":"h%d"}`+"\n", ts, batch, i, batch)
		}
		if code, resp, _ := s.post("/insert/jsonline", "application/x-ndjson", body.Bytes()); code/100 != 2 {
			t.Fatalf("insert batch %d: %d %s", batch, code, resp)
		}
		if code, resp, _ := s.post("/internal/force_flush", "", nil); code/100 != 2 {
			t.Fatalf("force flush %d: %d %s", batch, code, resp)
		}
	}
	s.stop()

	out, err := sluiceVerify(t, dataDir)
	if err != nil || !strings.Contains(out, "intact") {
		t.Fatalf("verify of an untouched data dir: %v\n%s", err, out)
	}
	parts := tamperPartFiles(t, dataDir)
	if len(parts) < 3 {
		t.Fatalf("want at least 3 parts, got %v", parts)
	}
	manifest := filepath.Join("store", "manifest.log")
	head := regexp.MustCompile(`(?m)^manifest head: (\d+:[0-9a-f]{64}) `).FindStringSubmatch(out)
	if head == nil {
		t.Fatalf("verify does not print the manifest head:\n%s", out)
	}

	// A history cut back consistently (last entry and its part removed)
	// passes the chain check; only the anchor taken before shows it.
	t.Run("history cut back, caught by the anchor", func(t *testing.T) {
		dir := t.TempDir()
		copyDataDir(t, dataDir, dir)
		p := filepath.Join(dir, manifest)
		lines := tamperManifestLines(t, p)
		tamperWrite(t, p, []byte(strings.Join(lines[:len(lines)-1], "")))
		if err := os.Remove(filepath.Join(dir, parts[len(parts)-1])); err != nil {
			t.Fatal(err)
		}
		if out, err := sluiceVerify(t, dir); err != nil {
			t.Fatalf("a consistent cut-back should pass without an anchor: %v\n%s", err, out)
		}
		out, err := sluiceVerify(t, dir, "--anchor", head[1])
		if err == nil || !regexp.MustCompile(`(?m)^anchor: entry \d+ \(recorded as [0-9a-f]+ by an anchor\) is not in the manifest`).MatchString(out) {
			t.Fatalf("verify --anchor %s passed or did not name the anchor: %v\n%s", head[1], err, out)
		}
	})
	if out, err := sluiceVerify(t, dataDir, "--anchor", head[1]); err != nil || !strings.Contains(out, "1 anchor(s) found") {
		t.Fatalf("verify --anchor of the untouched dir: %v\n%s", err, out)
	}

	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, dir string) string // returns the part id verify must name
		kind   string
	}{
		{"flipped byte in a part", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, parts[1])
			b := tamperRead(t, p)
			b[len(b)/2] ^= 0x01
			tamperWrite(t, p, b)
			return tamperPartID(parts[1])
		}, "checksum"},
		{"deleted part", func(t *testing.T, dir string) string {
			if err := os.Remove(filepath.Join(dir, parts[0])); err != nil {
				t.Fatal(err)
			}
			return tamperPartID(parts[0])
		}, "missing"},
		{"manifest truncated by its last entry", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, manifest)
			lines := tamperManifestLines(t, p)
			tamperWrite(t, p, []byte(strings.Join(lines[:len(lines)-1], "")))
			// The last flush's part is no longer live in the manifest.
			return tamperPartID(parts[len(parts)-1])
		}, "unreferenced"},
		{"manifest entries reordered", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, manifest)
			lines := tamperManifestLines(t, p)
			n := len(lines)
			lines[n-1], lines[n-2] = lines[n-2], lines[n-1]
			tamperWrite(t, p, []byte(strings.Join(lines, "")))
			return tamperPartID(parts[len(parts)-1])
		}, "chain"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			copyDataDir(t, dataDir, dir)
			id := tc.tamper(t, dir)
			out, err := sluiceVerify(t, dir)
			if err == nil {
				t.Fatalf("verify passed a tampered data dir:\n%s", out)
			}
			want := regexp.MustCompile(`(?m)^` + tc.kind + `: part ` + regexp.QuoteMeta(id) + `: `)
			if !want.MatchString(out) {
				t.Errorf("verify output lacks %q for part %s:\n%s", tc.kind, id, out)
			}
		})
	}
}

// sluiceVerify runs `sluice verify` on dir and returns its output.
func sluiceVerify(t *testing.T, dir string, flags ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, binPath, append([]string{"verify", "--data-dir", dir}, flags...)...).CombinedOutput()
	return string(out), err
}

// tamperPartFiles lists the part files under dir, relative to it, oldest first
// (part names increase).
func tamperPartFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(path, ".part") {
			rel, _ := filepath.Rel(dir, path)
			out = append(out, rel)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(out, func(a, b string) int { return strings.Compare(filepath.Base(a), filepath.Base(b)) })
	return out
}

// tamperPartID is "partition/name" of a part file path, as verify prints it.
func tamperPartID(rel string) string {
	return filepath.Base(filepath.Dir(rel)) + "/" + strings.TrimSuffix(filepath.Base(rel), ".part")
}

func tamperManifestLines(t *testing.T, path string) []string {
	t.Helper()
	lines := strings.SplitAfter(string(tamperRead(t, path)), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) < 2 {
		t.Fatalf("manifest has %d entries, want at least 2", len(lines))
	}
	return lines
}

func tamperRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func tamperWrite(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyDataDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}
