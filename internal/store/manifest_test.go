package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
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

// TestManifestUnknownPartField: an entry whose part carries a field this
// build does not know (as a newer build's entry does to an older build:
// partRef.Level did to the builds before it) hashes wrong here, as this
// build drops the field, and Open refuses the manifest, whether the entry
// is the last or one before it: only a last line without its newline is
// taken for an uncommitted write (FORMAT.md, "going back to an older build
// is not supported").
func TestManifestUnknownPartField(t *testing.T) {
	for _, tc := range []struct {
		name string
		at   int // the entry given the field; -1 the last, -2 none
	}{
		{"none (the rewrite itself opens)", -2},
		{"an entry before the last", 0},
		{"the last entry", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openTest(t, dir, Options{})
			rng := rand.New(rand.NewPCG(7, 7))
			for i := range 3 {
				s.Append(genRecords(rng, 20, i*20), uint64(i+1))
				if err := s.Flush(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, manifestName)
			lines := parseManifest(mustRead(t, path))
			at := tc.at
			if at == -1 {
				at = len(lines) - 1
			}
			if len(lines) < 2 || at >= 0 && len(lines[at].entry.Added) == 0 {
				t.Fatalf("%d manifest lines; entry %d adds no part", len(lines), at)
			}
			// Rewritten as a newer build would write it: the field in
			// the part and in its hash, the entries after it chained to it.
			var out []byte
			prev := ""
			for i, l := range lines {
				e := l.entry
				e.Prev, e.Hash, e.Sig = prev, "", ""
				body, err := json.Marshal(&e)
				if err != nil {
					t.Fatal(err)
				}
				if i == at {
					sum := `"sha256":"` + e.Added[0].SHA256 + `"`
					if !bytes.Contains(body, []byte(sum)) {
						t.Fatalf("no %s in %s", sum, body)
					}
					body = bytes.Replace(body, []byte(sum), []byte(sum+`,"future":1`), 1)
				}
				p, err := hex.DecodeString(prev)
				if err != nil {
					t.Fatal(err)
				}
				h := sha256.Sum256(append(p, body...))
				prev = hex.EncodeToString(h[:])
				line := append(bytes.TrimSuffix(body, []byte("}")), `,"hash":"`+prev+`"}`...)
				var back manifestEntry
				if err := json.Unmarshal(line, &back); err != nil || back.Hash != prev {
					t.Fatalf("rewritten line %s: %v", line, err)
				}
				out = append(append(out, line...), '\n')
			}
			if err := os.WriteFile(path, out, 0o644); err != nil {
				t.Fatal(err)
			}
			s, err := Open(dir, Options{}, testLogger(t))
			if err == nil {
				s.Close()
			}
			switch {
			case at < 0:
				if err != nil {
					t.Fatalf("open of the rewritten manifest: %v", err)
				}
			case err == nil:
				t.Fatalf("opened a manifest whose entry %d of %d holds an unknown field", at+1, len(lines))
			case !strings.Contains(err.Error(), fmt.Sprintf("entry %d of %d is damaged", at+1, len(lines))) || !strings.Contains(err.Error(), "does not match its hash"):
				t.Fatalf("open: %v, want the entry's hash wrong", err)
			}
		})
	}
}
