package store

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/sluice-log/sluice/internal/record"
)

// copyTestRecords returns, in time order, the records of streams over
// hours from testBase: stream i has perHour[i] records an hour, evenly
// spaced, with a message, a level and a latency that vary.
func copyTestRecords(hours int, perHour []int) []record.Record {
	var recs []record.Record
	for i, n := range perHour {
		step := int64(time.Hour) / int64(n)
		for h := range hours {
			for j := range n {
				k := h*n + j
				recs = append(recs, record.Record{
					Time:    testBase + int64(h)*int64(time.Hour) + int64(j)*step + int64(i),
					Stream:  []record.Field{{Name: "app", Value: fmt.Sprintf("app%d", i)}},
					Message: fmt.Sprintf("request %d of user u%d took %d ms", k, k%97, k%1000),
					Fields: []record.Field{
						{Name: "level", Value: []string{"info", "warn", "error"}[k%3]},
						{Name: "latency", Value: fmt.Sprintf("%d.%d", k%500, k%10)},
					},
				})
			}
		}
	}
	slices.SortStableFunc(recs, func(a, b record.Record) int { return cmp.Compare(a.Time, b.Time) })
	return recs
}

// TestMergeCopiesBlocks: a merge that copies the blocks it need not
// combine writes the very part that decoding and re-adding every record
// writes, byte for byte, and copies blocks only where no other part's
// records of their stream join them.
func TestMergeCopiesBlocks(t *testing.T) {
	recs := copyTestRecords(3, []int{3000, 500, 40})
	byStream := func(keep func(app string) bool) []record.Record {
		var out []record.Record
		for _, r := range recs {
			if keep(r.Stream[0].Value) {
				out = append(out, r)
			}
		}
		return out
	}
	slicesOf := func(n int) [][]record.Record { // n consecutive time slices
		var out [][]record.Record
		for i := range n {
			out = append(out, recs[i*len(recs)/n:(i+1)*len(recs)/n])
		}
		return out
	}
	var even, odd []record.Record
	for i, r := range recs {
		if i%2 == 0 {
			even = append(even, r)
		} else {
			odd = append(odd, r)
		}
	}
	tests := []struct {
		name         string
		blockRecords int
		flushes      [][]record.Record
		copies       bool // some blocks are copied
		all          bool // every block is copied
	}{
		{"disjoint streams", 0, [][]record.Record{
			byStream(func(a string) bool { return a == "app0" }),
			byStream(func(a string) bool { return a != "app0" }),
		}, true, true},
		{"flushes of an hour each", 0, slicesOf(3), true, false},
		{"flushes across hours", 0, slicesOf(4), false, false},
		{"time-ordered flushes, small blocks", 100, slicesOf(5), true, false},
		{"interleaved times", 0, [][]record.Record{even, odd}, false, false},
	}
	// At the merge level (a final merge of flushes) a copied block's
	// columns are compressed anew; at the flushes' level (a small-lane
	// tier merge) its stored bytes are kept as they are.
	levels := []struct {
		name string
		enc  func(s *Store) *zstd.Encoder
		keep bool
	}{
		{"merge level", func(s *Store) *zstd.Encoder { return s.menc }, false},
		{"flush level", func(s *Store) *zstd.Encoder { return s.senc }, true},
	}
	for _, tt := range tests {
		for _, lv := range levels {
			t.Run(tt.name+"/"+lv.name, func(t *testing.T) {
				var parts [2][]byte
				var st [2]Stats
				var kept [2]int64
				for i, noCopy := range []bool{false, true} {
					dir := t.TempDir()
					s := openTest(t, dir, Options{BlockRecords: tt.blockRecords, IdleMergeAfter: -1, noBlockCopy: noCopy})
					flushEach(t, s, tt.flushes)
					if err := s.mergeParts(context.Background(), livePartsByName(s), lv.enc(s)); err != nil {
						t.Fatal(err)
					}
					kept[i] = s.Stats().MergeBlocksKept
					if got := searchAll(t, s, SearchRequest{}); len(got) != len(recs) {
						t.Fatalf("%d records after the merge, want %d", len(got), len(recs))
					}
					st[i] = s.Stats()
					if st[i].MergeBufferBytes != 0 {
						t.Errorf("merge_buffer_bytes %d after the merge, want 0", st[i].MergeBufferBytes)
					}
					if st[i].Parts != 1 {
						t.Fatalf("%d parts after the merge, want 1", st[i].Parts)
					}
					for _, ps := range s.parts {
						for _, p := range ps {
							b, err := os.ReadFile(filepath.Join(dir, partitionsDir, p.partition, p.name+partExt))
							if err != nil {
								t.Fatal(err)
							}
							parts[i] = b
						}
					}
					s.Close()
				}
				if !bytes.Equal(parts[0], parts[1]) {
					t.Errorf("copying blocks wrote a part of %d bytes, decoding them one of %d; want the same bytes", len(parts[0]), len(parts[1]))
				}
				c := st[0]
				if st[1].MergeBlocksCopied != 0 || st[1].MergeBlocks != c.MergeBlocks {
					t.Errorf("without copies: %d of %d blocks copied; with: %d blocks", st[1].MergeBlocksCopied, st[1].MergeBlocks, c.MergeBlocks)
				}
				if (c.MergeBlocksCopied > 0) != tt.copies || (c.MergeBlocksCopied == c.MergeBlocks) != tt.all {
					t.Errorf("%d of %d blocks copied; want some: %v, all: %v", c.MergeBlocksCopied, c.MergeBlocks, tt.copies, tt.all)
				}
				if want := map[bool]int64{true: c.MergeBlocksCopied, false: 0}[lv.keep]; kept[0] != want || kept[1] != 0 {
					t.Errorf("%d and %d blocks kept as stored (copies, no copies), want %d and 0", kept[0], kept[1], want)
				}
				t.Logf("%d of %d blocks copied, %d kept as stored", c.MergeBlocksCopied, c.MergeBlocks, kept[0])
			})
		}
	}
}

// livePartsByName returns every part s serves, in name order (the order
// of their flushes).
// flushEach appends and flushes each of flushes in turn, as a part of
// its own.
func flushEach(t testing.TB, s *Store, flushes [][]record.Record) {
	t.Helper()
	seq := uint64(0)
	for _, f := range flushes {
		seq += uint64(len(f))
		s.Append(slices.Clone(f), seq)
		if err := s.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

func livePartsByName(s *Store) []*part {
	var all []*part
	for _, ps := range s.parts {
		for _, p := range ps {
			all = append(all, p)
		}
	}
	slices.SortFunc(all, func(a, b *part) int { return cmp.Compare(a.name, b.name) })
	return all
}

// TestMergeInputDropsBlocks: a merge input holds the block it read only
// until its last record is handed on, so that between blocks it holds
// none and a merge's memory does not grow with its inputs' blocks; the
// bytes it holds are counted in Stats.MergeBufferBytes while it does.
func TestMergeInputDropsBlocks(t *testing.T) {
	recs := copyTestRecords(3, []int{3000, 500, 40})
	for _, blockRecords := range []int{0, 100} {
		t.Run(fmt.Sprint("block_records=", blockRecords), func(t *testing.T) {
			s := openTest(t, t.TempDir(), Options{BlockRecords: blockRecords, IdleMergeAfter: -1})
			defer s.Close()
			s.Append(slices.Clone(recs), uint64(len(recs)))
			if err := s.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			parts := livePartsByName(s)
			if len(parts) != 1 {
				t.Fatalf("%d parts, want 1", len(parts))
			}
			sc := &mergeScratch{held: &s.mergeBufferBytes}
			it := &partIter{p: parts[0], s: s, sc: sc}
			n, blocks := 0, 0
			for {
				ok, err := it.next()
				if err != nil {
					t.Fatal(err)
				}
				if !ok {
					break
				}
				n++
				if it.row == 1 {
					blocks++
					if got, want := s.Stats().MergeBufferBytes, sc.counted+int64(cap(it.d.raw)); got != want || it.held == 0 {
						t.Fatalf("block %d: merge_buffer_bytes %d, want %d (buffers %d, block %d)", blocks, got, want, sc.counted, cap(it.d.raw))
					}
				}
			}
			if n != len(recs) {
				t.Fatalf("%d records read, want %d", n, len(recs))
			}
			if it.d.raw != nil || it.rec.Message != "" || it.held != 0 {
				t.Errorf("after its last block the input still holds %d decoded bytes (message %q)", cap(it.d.raw), it.rec.Message)
			}
			sc.account(true)
			if got := s.Stats().MergeBufferBytes; got != 0 {
				t.Errorf("merge_buffer_bytes %d once done, want 0", got)
			}
			t.Logf("%d blocks", blocks)
		})
	}
}

// TestMergeLetsGoOfInputBlocks: the block a merge builds keeps copies of
// the values it takes, not the inputs' decoded blocks, so that an input's
// block can go as soon as its last record is handed on, whatever its
// size: the merge holds at most one block per input and its output's
// values (blockBuilder.keep). Dropped blocks are overwritten here
// (Options.scribbleDropped); an output block that still pointed into them
// would be written with their bytes replaced.
func TestMergeLetsGoOfInputBlocks(t *testing.T) {
	recs := copyTestRecords(3, []int{3000, 500, 40})
	timeSlices := func(n int) [][]record.Record {
		var out [][]record.Record
		for i := range n {
			out = append(out, recs[i*len(recs)/n:(i+1)*len(recs)/n])
		}
		return out
	}
	tests := []struct {
		name         string
		blockRecords int
		flushes      [][]record.Record
		noCopy       bool
	}{
		{"time-ordered flushes, small blocks", 100, timeSlices(5), false},
		{"time-ordered flushes, every block decoded", 0, timeSlices(7), true},
		{"one flush, every block decoded", 0, timeSlices(1), true},
	}
	want := make([]string, 0, len(recs))
	for i := range recs {
		want = append(want, canon(&recs[i]))
	}
	slices.Sort(want)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTest(t, t.TempDir(), Options{BlockRecords: tt.blockRecords, IdleMergeAfter: -1,
				noBlockCopy: tt.noCopy, scribbleDropped: true})
			defer s.Close()
			flushEach(t, s, tt.flushes)
			if err := s.mergeParts(context.Background(), livePartsByName(s), s.menc); err != nil {
				t.Fatal(err)
			}
			got := searchAll(t, s, SearchRequest{})
			if len(got) != len(want) {
				t.Fatalf("%d records after the merge, want %d", len(got), len(want))
			}
			bad := 0
			for i := range got {
				if got[i] != want[i] {
					if bad++; bad == 1 {
						t.Errorf("record %d after the merge: %s\nwant %s", i, got[i], want[i])
					}
				}
			}
			if bad > 0 {
				t.Errorf("%d of %d records changed by the merge", bad, len(want))
			}
			if st := s.Stats(); st.MergeBlocks == st.MergeBlocksCopied {
				t.Errorf("%d of %d blocks copied: none decoded, nothing tested", st.MergeBlocksCopied, st.MergeBlocks)
			}
		})
	}
}

// TestMergeKeptBlocksChecked: a block whose stored bytes a merge keeps
// as they are (its part written at the merge's level) is checked as a
// decoding read checks it: damage to its header or to a column fails the
// merge with errCorrupt and quarantines the part, instead of landing in
// the output under a fresh sha256.
func TestMergeKeptBlocksChecked(t *testing.T) {
	recs := copyTestRecords(1, []int{600, 300})
	for _, tt := range []struct {
		name string
		at   func(m *blockMeta) int64 // the byte damaged, from the block's start
	}{
		{"header", func(m *blockMeta) int64 { return 1 }},
		{"column", func(m *blockMeta) int64 { return int64(m.headerLen) + 1 }},
		{"last column byte", func(m *blockMeta) int64 { return m.length - 1 }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := openTest(t, t.TempDir(), Options{IdleMergeAfter: -1})
			defer s.Close()
			var flushes [][]record.Record
			for _, app := range []string{"app0", "app1"} { // disjoint streams: every block copied
				var f []record.Record
				for _, r := range recs {
					if r.Stream[0].Value == app {
						f = append(f, r)
					}
				}
				flushes = append(flushes, f)
			}
			flushEach(t, s, flushes)
			parts := livePartsByName(s)
			victim := parts[0]
			mi, err := victim.metaIndex()
			if err != nil {
				t.Fatal(err)
			}
			c, err := victim.chunkOnce(mi, 0)
			if err != nil {
				t.Fatal(err)
			}
			m := &c.metas[0]
			b, err := os.ReadFile(victim.path)
			if err != nil {
				t.Fatal(err)
			}
			b[m.offset+tt.at(m)] ^= 0x40
			if err := os.WriteFile(victim.path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			err = s.mergeParts(context.Background(), parts, s.senc)
			if !errors.Is(err, errCorrupt) {
				t.Fatalf("merge of a damaged part: %v, want errCorrupt", err)
			}
			if got := s.Quarantined(); len(got) != 1 {
				t.Fatalf("Quarantined() = %v, want the damaged part", got)
			}
			if n := s.mergeBlocksKept.Load(); n != 0 {
				t.Fatalf("%d blocks kept by a failed merge", n)
			}
		})
	}
}

// TestMergeKeepsBlocksAfterRestart: a part's zstd level is in its
// manifest entry (partRef.Level), so a merge after the store was closed
// and opened again keeps the stored bytes of the blocks it copies, as
// one without a restart does, and writes the same part byte for byte;
// also when the manifest was checkpointed in between. A manifest whose
// entries have no level (written before the field existed) still opens
// and verifies, and its parts' copied blocks are compressed anew, to the
// same bytes.
func TestMergeKeepsBlocksAfterRestart(t *testing.T) {
	recs := copyTestRecords(2, []int{600, 300, 40})
	half := func(app func(string) bool, second bool) []record.Record {
		var out []record.Record
		for _, r := range recs {
			if app(r.Stream[0].Value) && (r.Time >= testBase+int64(time.Hour)) == second {
				out = append(out, r)
			}
		}
		return out
	}
	app0 := func(a string) bool { return a == "app0" }
	others := func(a string) bool { return a != "app0" }
	whole := func(app func(string) bool) []record.Record { return append(half(app, false), half(app, true)...) }
	levels := []struct {
		name    string
		flushes [][]record.Record // disjoint streams by the merge after the restart: every block copied
		// before merges the flushed parts before the restart, if at all;
		// enc is the encoder of the merge after it.
		before func(t *testing.T, s *Store)
		enc    func(s *Store) *zstd.Encoder
	}{
		{"tier merge of flushes", [][]record.Record{whole(app0), whole(others)},
			func(*testing.T, *Store) {}, func(s *Store) *zstd.Encoder { return s.senc }},
		{"final merge of final merges", [][]record.Record{half(app0, false), half(app0, true), half(others, false), half(others, true)}, func(t *testing.T, s *Store) {
			ps := livePartsByName(s)
			for _, in := range [][]*part{ps[:2], ps[2:]} { // app0, then the others: disjoint streams
				if err := s.mergeParts(context.Background(), in, s.menc); err != nil {
					t.Fatal(err)
				}
			}
		}, func(s *Store) *zstd.Encoder { return s.menc }},
	}
	modes := []struct {
		name       string
		restart    bool
		checkpoint bool // every commit checkpoints the manifest
		stripLevel bool // the manifest rewritten without levels before the restart
	}{
		{"no restart", false, false, false},
		{"restart", true, false, false},
		{"restart after checkpoints", true, true, false},
		{"manifest without levels", true, false, true},
	}
	for _, lv := range levels {
		t.Run(lv.name, func(t *testing.T) {
			var want []byte
			for _, md := range modes {
				t.Run(md.name, func(t *testing.T) {
					dir := t.TempDir()
					opts := Options{IdleMergeAfter: -1}
					if md.checkpoint {
						opts.ManifestCheckpointEntries = 1
					}
					s := openTest(t, dir, opts)
					flushEach(t, s, lv.flushes)
					lv.before(t, s)
					if md.restart {
						s.Close()
						if md.stripLevel {
							stripManifestLevels(t, dir)
						}
						if ps, err := Verify(dir); err != nil || len(ps) != 0 {
							t.Fatalf("verify before the reopen: %v %v", ps, err)
						}
						s = openTest(t, dir, opts)
						if md.checkpoint {
							checkCheckpointLevels(t, dir)
						}
					}
					defer s.Close()
					for _, p := range livePartsByName(s) {
						if (p.mref.Level == 0) != md.stripLevel {
							t.Fatalf("part %s opened with level %d", p.name, p.mref.Level)
						}
					}
					st0 := s.Stats() // the merges before the restart's, without one
					if err := s.mergeParts(context.Background(), livePartsByName(s), lv.enc(s)); err != nil {
						t.Fatal(err)
					}
					st := s.Stats()
					st.MergeBlocks -= st0.MergeBlocks
					st.MergeBlocksCopied -= st0.MergeBlocksCopied
					st.MergeBlocksKept -= st0.MergeBlocksKept
					if st.Parts != 1 || st.MergeBlocksCopied == 0 || st.MergeBlocksCopied != st.MergeBlocks {
						t.Fatalf("%d parts, %d of %d blocks copied after the merge; want 1 part, all copied", st.Parts, st.MergeBlocksCopied, st.MergeBlocks)
					}
					if wantKept := map[bool]int64{true: 0, false: st.MergeBlocksCopied}[md.stripLevel]; st.MergeBlocksKept != wantKept {
						t.Errorf("%d of %d copied blocks kept as stored, want %d", st.MergeBlocksKept, st.MergeBlocksCopied, wantKept)
					}
					merged := livePartsByName(s)[0]
					if merged.mref.Level != s.levelOf(lv.enc(s)) {
						t.Errorf("merged part of level %d, want %d", merged.mref.Level, s.levelOf(lv.enc(s)))
					}
					if got := searchAll(t, s, SearchRequest{}); len(got) != len(recs) {
						t.Fatalf("%d records after the merge, want %d", len(got), len(recs))
					}
					if ps, err := s.Verify(); err != nil || len(ps) != 0 {
						t.Fatalf("verify after the merge: %v %v", ps, err)
					}
					b := mustRead(t, merged.path)
					if want == nil {
						want = b
					} else if !bytes.Equal(b, want) {
						t.Errorf("merged part of %d bytes, the merge without a restart wrote %d; want the same bytes", len(b), len(want))
					}
				})
			}
		})
	}
}

// stripManifestLevels rewrites the manifest of the closed store in dir
// as a build before partRef.Level wrote it: the same entries without
// their parts' levels, hashed and chained again.
func stripManifestLevels(t *testing.T, dir string) {
	t.Helper()
	path := filepath.Join(dir, manifestName)
	var out []byte
	prev := ""
	for _, l := range parseManifest(mustRead(t, path)) {
		if l.err != nil {
			t.Fatal(l.err)
		}
		e := l.entry
		for _, refs := range [][]partRef{e.Added, e.Removed, e.Live} {
			for i := range refs {
				refs[i].Level = 0
			}
		}
		e.Prev, e.Hash = prev, ""
		h, err := e.computeHash()
		if err != nil {
			t.Fatal(err)
		}
		e.Hash, prev = h, h
		line, err := json.Marshal(&e)
		if err != nil {
			t.Fatal(err)
		}
		out = append(append(out, line...), '\n')
	}
	if bytes.Contains(out, []byte(`"level"`)) {
		t.Fatalf("manifest still records levels: %s", out)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkCheckpointLevels checks that manifest.log of dir starts with a
// checkpoint whose live parts all have their level.
func checkCheckpointLevels(t *testing.T, dir string) {
	t.Helper()
	lines := parseManifest(mustRead(t, filepath.Join(dir, manifestName)))
	if len(lines) == 0 || lines[0].entry.Op != opCheckpoint || len(lines[0].entry.Live) == 0 {
		t.Fatalf("manifest.log does not start with a checkpoint of live parts: %+v", lines)
	}
	for _, r := range lines[0].entry.Live {
		if r.Level == 0 {
			t.Errorf("checkpoint lists part %s without its level", r.id())
		}
	}
}
