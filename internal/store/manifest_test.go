package store

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// checkpointFixture is a closed store whose manifest was checkpointed
// several times: every 4 entries, over 13 flushes, the last of which
// took a checkpoint (manifest.log holds that checkpoint alone).
type checkpointFixture struct {
	dir     string
	entries []manifestEntry // the whole history, in order
	recs    int
}

const (
	testCheckpointEvery = 4
	fixtureFlushes      = 13
)

func newCheckpointFixture(t *testing.T) *checkpointFixture {
	t.Helper()
	fx := &checkpointFixture{dir: t.TempDir()}
	s := openTest(t, fx.dir, Options{ManifestCheckpointEntries: testCheckpointEvery})
	rng := rand.New(rand.NewPCG(3, 3))
	for i := range fixtureFlushes {
		recs := genRecords(rng, 20, i*20)
		fx.recs += len(recs)
		s.Append(recs, uint64(i+1))
		if err := s.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	segs, err := manifestSegments(fx.dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, seg := range segs {
		for _, l := range parseManifest(mustRead(t, seg)) {
			if n := len(fx.entries); n == 0 || fx.entries[n-1].Seq < l.entry.Seq {
				fx.entries = append(fx.entries, l.entry)
			}
		}
	}
	return fx
}

func (fx *checkpointFixture) segments(t *testing.T) []string {
	t.Helper()
	segs, err := manifestSegments(fx.dir)
	if err != nil {
		t.Fatal(err)
	}
	return segs[:len(segs)-1]
}

// TestManifestCheckpoint checks that checkpoints bound what Open replays,
// that the archived history still verifies from entry 1 with anchors
// older than the last checkpoint, and that the data is intact.
func TestManifestCheckpoint(t *testing.T) {
	fx := newCheckpointFixture(t)
	live := fx.entries[len(fx.entries)-1]
	if n := len(fx.entries); n < fixtureFlushes || fx.entries[0].Seq != 1 || int(live.Seq) != n {
		t.Fatalf("history of %d entries from %d to %d", n, fx.entries[0].Seq, live.Seq)
	}
	if segs := fx.segments(t); len(segs) < 3 {
		t.Fatalf("%d archived segments, want at least 3", len(segs))
	}
	tail := parseManifest(mustRead(t, filepath.Join(fx.dir, manifestName)))
	if len(tail) > testCheckpointEvery+1 || tail[0].entry.Op != opCheckpoint || tail[0].err != nil {
		t.Fatalf("manifest.log holds %d entries, the first a %q (%v)", len(tail), tail[0].entry.Op, tail[0].err)
	}
	r, err := Audit(fx.dir, Anchor{Seq: 2, Hash: fx.entries[1].Hash}, Anchor{Seq: live.Seq, Hash: live.Hash})
	if err != nil || len(r.Problems) != 0 || r.Head.Seq != live.Seq || r.Records != int64(fx.recs) {
		t.Fatalf("Audit = %+v, %v", r, err)
	}
	r, _ = Audit(fx.dir, Anchor{Seq: 2, Hash: strings.Repeat("0", 64)})
	if k := problemKinds(r.Problems); len(r.Problems) != 1 || len(k[ProblemAnchor]) != 1 {
		t.Fatalf("a wrong anchor older than the checkpoints: %v", r.Problems)
	}

	s := openTest(t, fx.dir, Options{ManifestCheckpointEntries: testCheckpointEvery})
	defer s.Close()
	if st := s.Stats(); st.ManifestReplayed != len(tail) || st.ManifestReplayed > testCheckpointEvery+1 || st.Records != int64(fx.recs) {
		t.Fatalf("reopened: %d entries replayed (manifest.log has %d), %d records of %d", st.ManifestReplayed, len(tail), st.Records, fx.recs)
	}
	if got := len(searchAll(t, s, SearchRequest{})); got != countTenant(fx, "") {
		t.Fatalf("search found %d records", got)
	}
}

// countTenant is how many of the fixture's records the default tenant has.
func countTenant(fx *checkpointFixture, tenant string) int {
	n := 0
	rng := rand.New(rand.NewPCG(3, 3))
	for i := range fixtureFlushes {
		for _, r := range genRecords(rng, 20, i*20) {
			if r.Tenant == tenant {
				n++
			}
		}
	}
	return n
}

// TestManifestCheckpointCrash puts the manifest in the states a crash
// between the steps of a checkpoint leaves, and checks that the store
// opens with the same parts and that verify passes.
func TestManifestCheckpointCrash(t *testing.T) {
	for _, tc := range []struct {
		name  string
		crash func(t *testing.T, fx *checkpointFixture)
	}{
		{"checkpoint appended, not archived", func(t *testing.T, fx *checkpointFixture) {
			// The last segment back as manifest.log, the segment gone.
			segs := fx.segments(t)
			last := segs[len(segs)-1]
			if err := os.WriteFile(filepath.Join(fx.dir, manifestName), mustRead(t, last), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Remove(last); err != nil {
				t.Fatal(err)
			}
		}},
		{"archived, manifest.log not yet replaced", func(t *testing.T, fx *checkpointFixture) {
			segs := fx.segments(t)
			data := mustRead(t, segs[len(segs)-1])
			if err := os.WriteFile(filepath.Join(fx.dir, manifestName), data, 0o644); err != nil {
				t.Fatal(err)
			}
			// and the temporary file of the replacement, half written
			if err := os.WriteFile(filepath.Join(fx.dir, manifestName+tmpExt), data[:10], 0o644); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fx := newCheckpointFixture(t)
			tail := parseManifest(mustRead(t, filepath.Join(fx.dir, manifestName)))
			if len(tail) != 1 {
				t.Fatalf("the fixture must end right after a checkpoint; manifest.log holds %d entries", len(tail))
			}
			before := partFiles(t, fx.dir)
			tc.crash(t, fx)
			if ps, err := Verify(fx.dir); err != nil || len(ps) != 0 {
				t.Fatalf("verify after the crash: %v %v", ps, err)
			}
			s := openTest(t, fx.dir, Options{ManifestCheckpointEntries: testCheckpointEvery})
			if st := s.Stats(); st.Records != int64(fx.recs) {
				t.Fatalf("%d records after reopening, want %d", st.Records, fx.recs)
			}
			// Open checkpointed the long manifest again.
			if got := len(parseManifest(mustRead(t, filepath.Join(fx.dir, manifestName)))); got != 1 {
				t.Fatalf("manifest.log holds %d entries after reopening", got)
			}
			if _, err := os.Stat(filepath.Join(fx.dir, manifestName+tmpExt)); !os.IsNotExist(err) {
				t.Fatalf("temporary manifest left: %v", err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if got := partFiles(t, fx.dir); !slices.Equal(got, before) {
				t.Fatalf("part files %v, want %v", got, before)
			}
			if ps, err := Verify(fx.dir); err != nil || len(ps) != 0 {
				t.Fatalf("verify after reopening: %v %v", ps, err)
			}
		})
	}
}

// TestVerifyDetectsArchiveTampering alters the archived history: each
// change must be reported as a chain problem, also when every hash after
// the change was recomputed (then only the checkpoint's live set, or an
// anchor, gives it away).
func TestVerifyDetectsArchiveTampering(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, fx *checkpointFixture)
		want   ProblemKind
	}{
		{"segment deleted", func(t *testing.T, fx *checkpointFixture) {
			if err := os.Remove(fx.segments(t)[1]); err != nil {
				t.Fatal(err)
			}
		}, ProblemChain},
		{"first segment deleted", func(t *testing.T, fx *checkpointFixture) {
			if err := os.Remove(fx.segments(t)[0]); err != nil {
				t.Fatal(err)
			}
		}, ProblemChain},
		{"archived entry edited", func(t *testing.T, fx *checkpointFixture) {
			seg := fx.segments(t)[0]
			data := bytes.Replace(mustRead(t, seg), []byte(`"watermark":2,`), []byte(`"watermark":3,`), 1)
			if err := os.WriteFile(seg, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}, ProblemChain},
		{"history rewritten without a part, hashes recomputed", func(t *testing.T, fx *checkpointFixture) {
			// Drop the first flush's parts from every entry and checkpoint
			// from the second entry on, as if never added, and recompute
			// the chain: only the checkpoints give it away, since entry 1
			// still adds them.
			gone := fx.entries[0].Added[0]
			rewriteHistory(t, fx, func(e *manifestEntry) {
				e.Live = slices.DeleteFunc(e.Live, func(r partRef) bool { return r == gone })
			})
		}, ProblemChain},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fx := newCheckpointFixture(t)
			tc.tamper(t, fx)
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

// rewriteHistory applies edit to every entry after the first and rewrites
// the archive and manifest.log with the chain recomputed.
func rewriteHistory(t *testing.T, fx *checkpointFixture, edit func(*manifestEntry)) {
	t.Helper()
	byHash := map[string]manifestEntry{}
	prev := ""
	for i := range fx.entries {
		e := fx.entries[i]
		old := e.Hash
		if i > 0 {
			edit(&e)
		}
		e.Prev = prev
		h, err := e.computeHash()
		if err != nil {
			t.Fatal(err)
		}
		e.Hash = h
		byHash[old] = e
		prev = h
	}
	segs, _ := manifestSegments(fx.dir)
	for _, seg := range segs {
		var out []byte
		for _, l := range parseManifest(mustRead(t, seg)) {
			line, err := json.Marshal(byHash[l.entry.Hash])
			if err != nil {
				t.Fatal(err)
			}
			out = append(append(out, line...), '\n')
		}
		if err := os.WriteFile(seg, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
