package store

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/record"
)

// crashFixture is a store with two committed flushes, closed.
type crashFixture struct {
	dir          string
	first, all   []record.Record
	manifestMid  int64 // manifest size after the first flush
	partsOfFirst []string
}

func newCrashFixture(t *testing.T) *crashFixture {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 8))
	fx := &crashFixture{dir: t.TempDir()}
	s := openTest(t, fx.dir, Options{BlockRecords: 40})
	fx.first = genRecords(rng, 300, 0)
	s.Append(fx.first, 10)
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	fx.partsOfFirst = partFiles(t, fx.dir)
	fx.manifestMid = fileSize(t, filepath.Join(fx.dir, manifestName))
	second := genRecords(rng, 300, 300)
	s.Append(second, 20)
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	fx.all = append(slices.Clone(fx.first), second...)
	return fx
}

// allBut returns the fixture's records except those of part victim, one
// of the first flush's parts.
func (fx *crashFixture) allBut(victim string) []record.Record {
	var rest []record.Record
	partition := strings.Split(victim, "/")[0]
	for _, r := range fx.all {
		if partitionOf(r.Tenant, r.Time) != partition || !slices.ContainsFunc(fx.first, func(f record.Record) bool { return f.Fields[0] == r.Fields[0] && f.Time == r.Time }) {
			rest = append(rest, r)
		}
	}
	return rest
}

// quarantinedPath is where the store moves part id when it quarantines it.
func quarantinedPath(dir, id string) string {
	return filepath.Join(dir, quarantineDir, strings.ReplaceAll(id, "/", "-")+partExt)
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// partFiles lists "partition/name" of the part files on disk.
func partFiles(t *testing.T, dir string) []string {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(dir, partitionsDir, "*", "*"+partExt))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range matches {
		out = append(out, filepath.Base(filepath.Dir(m))+"/"+strings.TrimSuffix(filepath.Base(m), partExt))
	}
	slices.Sort(out)
	return out
}

func partPathOf(dir, id string) string {
	return filepath.Join(dir, partitionsDir, id+partExt)
}

func countAll(t *testing.T, s *Store, recs []record.Record) {
	t.Helper()
	for _, tenant := range testTenants {
		req := SearchRequest{Tenant: tenant}
		if got, want := searchAll(t, s, req), bruteForce(recs, req); !slices.Equal(got, want) {
			t.Fatalf("tenant %q: got %d records, want %d", tenant, len(got), len(want))
		}
	}
}

func problemKinds(ps []Problem) map[ProblemKind][]string {
	out := make(map[ProblemKind][]string)
	for _, p := range ps {
		out[p.Kind] = append(out[p.Kind], p.Part)
	}
	return out
}

func TestReopenKeepsDataAndDurableSeq(t *testing.T) {
	fx := newCrashFixture(t)
	s := openTest(t, fx.dir, Options{})
	defer s.Close()
	if got := s.DurableSeq(); got != 20 {
		t.Fatalf("DurableSeq = %d, want 20", got)
	}
	countAll(t, s, fx.all)
}

func TestTornManifestTailIsTruncated(t *testing.T) {
	fx := newCrashFixture(t)
	path := filepath.Join(fx.dir, manifestName)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The second flush's entry was half written: its parts never committed.
	cut := fx.manifestMid + (int64(len(data))-fx.manifestMid)/2
	if err := os.WriteFile(path, data[:cut], 0o644); err != nil {
		t.Fatal(err)
	}
	ps, err := Verify(fx.dir)
	if err != nil {
		t.Fatal(err)
	}
	if k := problemKinds(ps); len(k[ProblemTornTail]) != 1 || len(k[ProblemUnreferenced]) == 0 {
		t.Fatalf("verify of torn manifest: %v", ps)
	}
	s := openTest(t, fx.dir, Options{})
	defer s.Close()
	if got := s.DurableSeq(); got != 10 {
		t.Fatalf("DurableSeq = %d, want 10", got)
	}
	countAll(t, s, fx.first)
	if got := fileSize(t, path); got != fx.manifestMid {
		t.Fatalf("manifest size = %d, want %d", got, fx.manifestMid)
	}
	if got := partFiles(t, fx.dir); !slices.Equal(got, fx.partsOfFirst) {
		t.Fatalf("part files %v, want %v", got, fx.partsOfFirst)
	}
	if ps, err := s.Verify(); err != nil || len(ps) != 0 {
		t.Fatalf("verify after reopen: %v %v", ps, err)
	}
}

func TestLeftoverFilesAreRemoved(t *testing.T) {
	fx := newCrashFixture(t)
	pdir := filepath.Join(fx.dir, partitionsDir, "20260102")
	junk := []string{
		filepath.Join(pdir, "00000000000000ff.part"),
		filepath.Join(pdir, "00000000000000fe.part.tmp"),
		filepath.Join(fx.dir, partitionsDir, "20250101", "0000000000000001.part"),
	}
	for _, j := range junk {
		if err := os.MkdirAll(filepath.Dir(j), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(j, []byte("half a part"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := openTest(t, fx.dir, Options{})
	defer s.Close()
	for _, j := range junk {
		if _, err := os.Stat(j); !os.IsNotExist(err) {
			t.Errorf("%s still exists (err %v)", j, err)
		}
	}
	countAll(t, s, fx.all)
}

// TestDamagedPartsAreQuarantined damages a part of a closed store: a
// missing or truncated file is quarantined when the store opens (which
// lists the files but hashes none), a flipped byte by the scrubber; the
// rest keeps serving.
func TestDamagedPartsAreQuarantined(t *testing.T) {
	for _, tc := range []struct {
		name     string
		damage   func(t *testing.T, path string)
		verified ProblemKind // what Verify reports before Open
		scrub    bool        // found by the scrubber, not on open
	}{
		{"missing", func(t *testing.T, path string) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		}, ProblemMissing, false},
		{"truncated", func(t *testing.T, path string) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, data[:len(data)-1], 0o644); err != nil {
				t.Fatal(err)
			}
		}, ProblemChecksum, false},
		{"flipped byte", func(t *testing.T, path string) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			data[len(data)/2] ^= 0x40
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}, ProblemChecksum, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fx := newCrashFixture(t)
			victim := fx.partsOfFirst[0]
			tc.damage(t, partPathOf(fx.dir, victim))
			ps, err := Verify(fx.dir)
			if err != nil {
				t.Fatal(err)
			}
			if got := problemKinds(ps)[tc.verified]; !slices.Equal(got, []string{victim}) {
				t.Fatalf("verify: %v, want %s of %s", ps, tc.verified, victim)
			}

			s := openTest(t, fx.dir, Options{})
			defer s.Close()
			st := s.Stats()
			if st.PartsScrubbed != 0 || st.PartsUnverified != st.Parts || st.Files.Opens != 0 {
				t.Fatalf("open hashed %d parts, left %d of %d unverified, opened %d files", st.PartsScrubbed, st.PartsUnverified, st.Parts, st.Files.Opens)
			}
			if got := s.Quarantined(); tc.scrub == (len(got) != 0) {
				t.Fatalf("quarantined on open: %v", got)
			}
			if err := s.Scrub(context.Background(), 0); err != nil {
				t.Fatal(err)
			}
			st = s.Stats()
			if tc.scrub && st.ScrubFailures != 1 {
				t.Fatalf("%d scrub failures, want 1", st.ScrubFailures)
			}
			if st.PartsUnverified != 0 || st.PartsScrubbed != int64(st.Parts)+int64(st.ScrubFailures) {
				t.Fatalf("after the scrub: %d parts, %d scrubbed, %d unverified", st.Parts, st.PartsScrubbed, st.PartsUnverified)
			}
			// Everything but the victim's records still serves.
			countAll(t, s, fx.allBut(victim))
			if tc.verified == ProblemChecksum {
				if _, err := os.Stat(quarantinedPath(fx.dir, victim)); err != nil {
					t.Fatalf("quarantined file: %v", err)
				}
			}
			ps, err = s.Verify()
			if err != nil {
				t.Fatal(err)
			}
			if got := problemKinds(ps)[ProblemMissing]; !slices.Equal(got, []string{victim}) {
				t.Fatalf("verify after open: %v", ps)
			}
		})
	}
}

func TestVerifyDetectsManifestTampering(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(lines [][]byte) [][]byte
		want   ProblemKind
	}{
		{"reordered", func(l [][]byte) [][]byte { l[0], l[1] = l[1], l[0]; return l }, ProblemChain},
		{"last entry removed", func(l [][]byte) [][]byte { return l[:len(l)-1] }, ProblemUnreferenced},
		{"first entry removed", func(l [][]byte) [][]byte { return l[1:] }, ProblemChain},
		{"entry edited", func(l [][]byte) [][]byte {
			l[0] = bytes.Replace(l[0], []byte(`"watermark":10`), []byte(`"watermark":11`), 1)
			return l
		}, ProblemChain},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fx := newCrashFixture(t)
			path := filepath.Join(fx.dir, manifestName)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			lines := bytes.SplitAfter(data, []byte("\n"))
			lines = lines[:len(lines)-1] // the empty string after the last newline
			if err := os.WriteFile(path, bytes.Join(tc.tamper(lines), nil), 0o644); err != nil {
				t.Fatal(err)
			}
			ps, err := Verify(fx.dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(problemKinds(ps)[tc.want]) == 0 {
				t.Fatalf("verify found %v, want a %s problem", ps, tc.want)
			}
		})
	}
}

func TestOpenRefusesBrokenChain(t *testing.T) {
	fx := newCrashFixture(t)
	path := filepath.Join(fx.dir, manifestName)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	lines[0], lines[1] = lines[1], lines[0]
	if err := os.WriteFile(path, bytes.Join(lines, nil), 0o644); err != nil {
		t.Fatal(err)
	}
	before := partFiles(t, fx.dir)
	if s, err := Open(fx.dir, Options{}, testLogger(t)); err == nil {
		s.Close()
		t.Fatal("open succeeded on a reordered manifest")
	}
	if got := partFiles(t, fx.dir); !slices.Equal(got, before) {
		t.Fatalf("open deleted parts: %v, had %v", got, before)
	}
}

func TestDropBefore(t *testing.T) {
	fx := newCrashFixture(t)
	s := openTest(t, fx.dir, Options{})
	cut := testBase + 24*3600*1e9 // drop the first day
	if err := s.DropBefore(context.Background(), timeOf(cut)); err != nil {
		t.Fatal(err)
	}
	var rest []record.Record
	for _, r := range fx.all {
		if r.Time >= cut {
			rest = append(rest, r)
		}
	}
	countAll(t, s, rest)
	if st := s.Stats(); st.Partitions != 2*len(testTenants) {
		t.Fatalf("partitions after drop: %+v", st)
	}
	if ps, err := s.Verify(); err != nil || len(ps) != 0 {
		t.Fatalf("verify after drop: %v %v", ps, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, fx.dir, Options{})
	defer s.Close()
	countAll(t, s, rest)
	if got := s.DurableSeq(); got != 20 {
		t.Fatalf("DurableSeq after drop = %d", got)
	}
}

// TestCrashAfterMergeCommit simulates a crash after a merge's manifest
// entry but before its inputs were deleted: the inputs are garbage on
// reopen and every record is served once.
func TestCrashAfterMergeCommit(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openTest(t, dir, Options{MergeFanIn: 2, BlockRecords: 30})
	rng := rand.New(rand.NewPCG(11, 12))
	var all []record.Record
	for i := range 3 {
		recs := genRecords(rng, 200, i*200)
		all = append(all, recs...)
		s.Append(recs, uint64(i+1))
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	saved := make(map[string][]byte)
	for _, id := range partFiles(t, dir) {
		data, err := os.ReadFile(partPathOf(dir, id))
		if err != nil {
			t.Fatal(err)
		}
		saved[id] = data
	}
	if err := s.Merge(ctx); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Merges == 0 {
		t.Fatalf("nothing merged: %+v", st)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for id, data := range saved {
		if err := os.WriteFile(partPathOf(dir, id), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s = openTest(t, dir, Options{})
	defer s.Close()
	countAll(t, s, all)
	if ps, err := s.Verify(); err != nil || len(ps) != 0 {
		t.Fatalf("verify: %v %v", ps, err)
	}
}

// TestFailedFlushKeepsRecords makes a flush fail (a partition directory
// cannot be created) and checks that its records stay searchable, exactly
// once, and are flushed by the next Flush.
func TestFailedFlushKeepsRecords(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openTest(t, dir, Options{})
	defer s.Close()
	recs := genRecords(rand.New(rand.NewPCG(13, 14)), 300, 0)
	s.Append(recs, 5)
	blocker := filepath.Join(dir, partitionsDir, partitionOf(recs[0].Tenant, recs[0].Time))
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx); err == nil {
		t.Fatal("flush succeeded with a file in the way of a partition directory")
	}
	if got := s.DurableSeq(); got != 0 {
		t.Fatalf("DurableSeq after failed flush = %d", got)
	}
	more := genRecords(rand.New(rand.NewPCG(15, 16)), 100, 300)
	s.Append(more, 6)
	all := append(slices.Clone(recs), more...)
	countAll(t, s, all)
	if ps, err := s.Verify(); err != nil || len(ps) != 0 {
		t.Fatalf("verify after failed flush: %v %v", ps, err)
	}
	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := s.DurableSeq(); got != 6 {
		t.Fatalf("DurableSeq = %d, want 6", got)
	}
	if st := s.Stats(); st.HeadRecords != 0 || st.Records != int64(len(all)) {
		t.Fatalf("stats after retry: %+v", st)
	}
	countAll(t, s, all)
}
