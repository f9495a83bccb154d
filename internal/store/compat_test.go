package store

import (
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/record"
)

// testdata/v2store is a store written by the build before part format
// version 3 (two flushes of genRecords(rand.NewPCG(21, 22)), 400 records
// each, blocks of 40 records): version 2 parts, a manifest without the
// parts' time ranges.
const v2StoreDir = "testdata/v2store"

func v2StoreRecords() []record.Record {
	rng := rand.New(rand.NewPCG(21, 22))
	var all []record.Record
	for i := range 2 {
		all = append(all, genRecords(rng, 400, i*400)...)
	}
	return all
}

// copyDir copies the directory tree src to dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// partMagics counts the live part files of dir by their format magic.
func partMagics(t *testing.T, dir string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, id := range partFiles(t, dir) {
		data := mustRead(t, partPathOf(dir, id))
		out[strings.TrimSpace(string(data[:partHeaderLen]))]++
	}
	return out
}

// TestVersion2StoreReadable opens the data directory of the previous
// build: its version 2 parts are searched through the index cache (one
// too small to hold them, so that their chunks are evicted and read
// again), verified, scrubbed, and merged into version 3 parts.
func TestVersion2StoreReadable(t *testing.T) {
	dir := t.TempDir()
	copyDir(t, v2StoreDir, dir)
	all := v2StoreRecords()
	if got := partMagics(t, dir); got["SLPART2"] == 0 || got["SLPART3"] != 0 {
		t.Fatalf("test data parts: %v", got)
	}
	if ps, err := Verify(dir); err != nil || len(ps) != 0 {
		t.Fatalf("verify of the version 2 store: %v %v", ps, err)
	}
	s := openTest(t, dir, Options{IndexCacheBytes: 4 << 10, MergeFanIn: 2})
	defer s.Close()
	rng := rand.New(rand.NewPCG(5, 5))
	checkQueries(t, "version 2 parts", s, all, rng, 40)
	st := s.Stats()
	if st.IndexCache.Evictions == 0 || st.IndexCache.Bytes > 64<<10 {
		t.Fatalf("index cache: %+v", st.IndexCache)
	}
	scrubThenMerge(t, s, dir, "SLPART2")
	checkQueries(t, "merged into the current version", s, all, rng, 40)
	if ps, err := s.Verify(); err != nil || len(ps) != 0 {
		t.Fatalf("verify after the merge: %v %v", ps, err)
	}
}

// scrubThenMerge scrubs the store s in dir, whose parts of the format with
// the given magic must all pass, and merges them into parts of the
// current version.
func scrubThenMerge(t *testing.T, s *Store, dir, magic string) {
	t.Helper()
	if err := s.Scrub(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.ScrubFailures != 0 || st.PartsUnverified != 0 {
		t.Fatalf("scrub of %s parts: %d failures, %d unverified", magic, st.ScrubFailures, st.PartsUnverified)
	}
	if err := s.Merge(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := partMagics(t, dir); got[magic] != 0 || got[strings.TrimSpace(partMagic)] == 0 {
		t.Fatalf("after merging: parts %v, want %s only", got, strings.TrimSpace(partMagic))
	}
}

// testdata/v3store is a store written by the build before part format
// version 4 (two flushes of genRecords(rand.NewPCG(31, 32)), 400 records
// each, blocks of 40 records): version 3 parts, whose index entries have
// no time index, so that a search over part of a block's time range reads
// its timestamps.
const v3StoreDir = "testdata/v3store"

// TestVersion3StoreReadable opens the data directory of the build before
// the blocks' time index: its version 3 parts are searched (over parts of
// their blocks' time ranges too), verified, scrubbed, and merged into
// parts of the current version, which answer the same.
func TestVersion3StoreReadable(t *testing.T) {
	checkOldStore(t, v3StoreDir, 3, rand.NewPCG(31, 32))
}

// testdata/v4store is a store written by the build before part format
// version 5 (two flushes of genRecords(rand.NewPCG(41, 42)), 400 records
// each, blocks of 40 records): version 4 parts, whose bloom filters are
// sized to powers of two.
const v4StoreDir = "testdata/v4store"

// TestVersion4StoreReadable opens the data directory of the build before
// blooms of any size: its version 4 parts are searched, verified,
// scrubbed, and merged into parts of the current version, which answer
// the same.
func TestVersion4StoreReadable(t *testing.T) {
	checkOldStore(t, v4StoreDir, 4, rand.NewPCG(41, 42))
}

// checkOldStore opens a copy of src, a store of format version v written
// as two flushes of 400 genRecords of src each in blocks of 40 records,
// checks that it verifies and answers queries, and that it still does
// once scrubbed and merged into parts of the current version. Its
// manifest records no zstd levels (partRef.Level), so the merge keeps no
// block's stored bytes.
func checkOldStore(t *testing.T, src string, v int, seed *rand.PCG) {
	dir := t.TempDir()
	copyDir(t, src, dir)
	rng := rand.New(seed)
	var all []record.Record
	for i := range 2 {
		all = append(all, genRecords(rng, 400, i*400)...)
	}
	magic := fmt.Sprintf("SLPART%d", v)
	if got := partMagics(t, dir); got[magic] == 0 || got[strings.TrimSpace(partMagic)] != 0 {
		t.Fatalf("test data parts: %v", got)
	}
	if ps, err := Verify(dir); err != nil || len(ps) != 0 {
		t.Fatalf("verify of the version %d store: %v %v", v, ps, err)
	}
	s := openTest(t, dir, Options{MergeFanIn: 2, BlockRecords: 40})
	defer s.Close()
	qrng := rand.New(rand.NewPCG(uint64(v)+3, uint64(v)+3))
	checkQueries(t, magic+" parts", s, all, qrng, 40)
	scrubThenMerge(t, s, dir, magic)
	if st := s.Stats(); st.MergeBlocksKept != 0 {
		t.Errorf("%d blocks of parts of unknown level kept as stored", st.MergeBlocksKept)
	}
	checkQueries(t, "merged into the current version", s, all, qrng, 40)
	if ps, err := s.Verify(); err != nil || len(ps) != 0 {
		t.Fatalf("verify after the merge: %v %v", ps, err)
	}
}

// testdata/v5store is a store written by the build before part format
// version 6 (two flushes of genRecords(rand.NewPCG(51, 52)), 400 records
// each, blocks of 40 records): version 5 parts, without the packed
// column encodings.
const v5StoreDir = "testdata/v5store"

// TestVersion5StoreReadable opens the data directory of the build before
// packed columns: its version 5 parts are searched, verified, scrubbed,
// and merged into version 6 parts, which answer the same.
func TestVersion5StoreReadable(t *testing.T) {
	checkOldStore(t, v5StoreDir, 5, rand.NewPCG(51, 52))
}
