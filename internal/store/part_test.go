package store

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/sluice-log/sluice/internal/record"
)

// buildPart writes recs (any order) as a part file and returns its bytes.
func buildPart(t testing.TB, recs []record.Record, blockRecords int) []byte {
	t.Helper()
	enc, dec, err := newCodecs(1)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	defer dec.Close()
	dir := t.TempDir()
	w, err := newPartWriter(dir, "20260101", "0000000000000001", enc, blockRecords, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A part holds records in stream key, then time order.
	ptrs := make([]*record.Record, len(recs))
	for i := range recs {
		ptrs[i] = &recs[i]
	}
	slices.SortStableFunc(ptrs, func(a, b *record.Record) int {
		if c := strings.Compare(streamKey(a.Tenant, a.Stream), streamKey(b.Tenant, b.Stream)); c != 0 {
			return c
		}
		return cmp.Compare(a.Time, b.Time)
	})
	for _, r := range ptrs {
		if err := w.add(r, nil, streamKey(r.Tenant, r.Stream)); err != nil {
			t.Fatal(err)
		}
	}
	sp, err := w.commit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(sp.final)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// memPart serves the part file data from memory, with caches of its own.
func memPart(data []byte, name string, dec *zstd.Decoder) *part {
	pio := &partIO{
		files: newFileCache(1, func(*part) (partFile, error) { return nopCloser{bytes.NewReader(data)}, nil }),
		index: newIndexCache(64 << 20),
		dec:   dec,
	}
	return newPart(partRef{Name: name, Size: int64(len(data))}, "", pio)
}

// partChunks loads every index chunk of p.
func partChunks(p *part) ([]*indexChunk, error) {
	mi, err := p.metaIndex()
	if err != nil {
		return nil, err
	}
	var chunks []*indexChunk
	for ci := range mi.chunks {
		c, err := p.chunk(mi, ci)
		if err != nil {
			return nil, err
		}
		chunks = append(chunks, c)
	}
	return chunks, nil
}

// blockRef is a block of a part: its chunk and index in it.
type blockRef struct {
	c *indexChunk
	i int
}

func (b blockRef) meta() *blockMeta { return &b.c.metas[b.i] }

// partBlocks lists every block of p in order.
func partBlocks(p *part) ([]blockRef, error) {
	chunks, err := partChunks(p)
	if err != nil {
		return nil, err
	}
	var out []blockRef
	for _, c := range chunks {
		for i := range c.metas {
			out = append(out, blockRef{c, i})
		}
	}
	return out, nil
}

// readAll decodes every record of an in-memory part.
func readAll(data []byte, dec *zstd.Decoder) ([]record.Record, []blockMeta, error) {
	p := memPart(data, "0000000000000001", dec)
	blocks, err := partBlocks(p)
	if err != nil {
		return nil, nil, err
	}
	var out []record.Record
	var metas []blockMeta
	var d decodedBlock
	var buf []byte
	for _, b := range blocks {
		m := b.meta()
		metas = append(metas, *m)
		if buf, err = p.readBlock(b.c, b.i, buf, &d, nil, false); err != nil {
			return out, metas, err
		}
		d.rewind()
		for row := range d.times {
			r := record.Record{Tenant: m.tenant, Stream: m.labels}
			d.row(row, &r)
			out = append(out, r.Clone())
		}
	}
	return out, metas, nil
}

func testDecoder(t *testing.T) *zstd.Decoder {
	dec, err := newDecoder(maxDecoderMemory)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dec.Close)
	return dec
}

func TestPartRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, tc := range []struct {
		name         string
		n            int
		blockRecords int
		base, step   int64 // the times, one partition
	}{
		{"one record", 1, 10, testBase, 1e6},
		{"small blocks", 500, 7, testBase, 1e6},
		{"one block per stream", 500, 10000, testBase, 1e6},
		{"whole seconds", 500, 40, testBase, 1e9},
		{"nanoseconds", 500, 40, testBase + 1, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs := genRecords(rng, tc.n, 0)
			for i := range recs {
				recs[i].Time = tc.base + int64(i%1000)*tc.step
			}
			got, metas, err := readAll(buildPart(t, recs, tc.blockRecords), testDecoder(t))
			if err != nil {
				t.Fatal(err)
			}
			want := bruteForce(recs, SearchRequest{})
			var gotC []string
			for i := range got {
				if got[i].Tenant == "" {
					gotC = append(gotC, canon(&got[i]))
				}
			}
			slices.Sort(gotC)
			if !slices.Equal(gotC, want) {
				t.Fatalf("round trip: got %d records, want %d", len(gotC), len(want))
			}
			if len(got) != tc.n {
				t.Fatalf("read %d records, wrote %d", len(got), tc.n)
			}
			for i := range metas {
				if metas[i].count > tc.blockRecords {
					t.Fatalf("block %d has %d records", i, metas[i].count)
				}
			}
		})
	}
}

func TestBlockSummary(t *testing.T) {
	recs := []record.Record{
		{Time: testBase, Stream: []record.Field{{Name: "app", Value: "Web-Shop"}}, Message: "disk FULL on /dev/sda",
			Fields: []record.Field{{Name: "code", Value: "42"}, {Name: "user", Value: "alice"}}},
		{Time: testBase + 1, Stream: []record.Field{{Name: "app", Value: "Web-Shop"}}, Message: "retry",
			Fields: []record.Field{{Name: "code", Value: "-7.5"}, {Name: "mixed", Value: "3"}}},
		{Time: testBase + 2, Stream: []record.Field{{Name: "app", Value: "Web-Shop"}}, Message: "ok",
			Fields: []record.Field{{Name: "mixed", Value: "three"}}},
	}
	_, metas, err := readAll(buildPart(t, recs, 100), testDecoder(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(metas) != 1 {
		t.Fatalf("%d blocks, want 1", len(metas))
	}
	m := &metas[0]
	for _, tc := range []struct {
		field, token string
		want         bool
	}{
		{record.MessageField, "full", true},
		{record.MessageField, "dev", true},
		{record.MessageField, "retry", true},
		{"app", "shop", true},
		{"user", "alice", true},
		{"code", "42", true},
		{"nosuch", "alice", false},
		{record.MessageField, "absent", false},
		{"user", "bob", false},
	} {
		if got := m.MayContainToken(tc.field, tc.token); got != tc.want {
			t.Errorf("MayContainToken(%q, %q) = %v, want %v", tc.field, tc.token, got, tc.want)
		}
	}
	for _, tc := range []struct {
		field string
		want  bool
	}{{"app", true}, {"code", true}, {"mixed", true}, {record.MessageField, true}, {"nosuch", false}} {
		if got := m.MayHaveField(tc.field); got != tc.want {
			t.Errorf("MayHaveField(%q) = %v", tc.field, got)
		}
	}
	if lo, hi, ok := m.NumRange("code"); !ok || lo != -7.5 || hi != 42 {
		t.Errorf("NumRange(code) = %v %v %v", lo, hi, ok)
	}
	if _, _, ok := m.NumRange("mixed"); ok {
		t.Error("NumRange(mixed) known, but one value is a word")
	}
}

func TestBloomHasNoFalseNegatives(t *testing.T) {
	for _, n := range []int{0, 1, 100, 10000} {
		hashes := make([]uint64, n)
		rng := rand.New(rand.NewPCG(uint64(n), 1))
		for i := range hashes {
			hashes[i] = rng.Uint64()
		}
		b := newBloom(slices.Clone(hashes))
		for _, h := range hashes {
			if !b.mayContain(h) {
				t.Fatalf("n=%d: false negative", n)
			}
		}
		fp := 0
		for range 10000 {
			if b.mayContain(rng.Uint64()) {
				fp++
			}
		}
		if n > 0 && fp > 500 {
			t.Errorf("n=%d: %d/10000 false positives", n, fp)
		}
	}
}

// FuzzPartDecode feeds arbitrary bytes to the part decoder (footer, index,
// blocks): it must return an error, never panic. zstd's pooled state makes
// coverage noisy, which stalls the fuzzer's minimisation: run it with
// -fuzzminimizetime=1s.
func FuzzPartDecode(f *testing.F) {
	// A small seed keeps the fuzzer's minimisation of new inputs quick.
	recs := genRecords(rand.New(rand.NewPCG(9, 9)), 6, 0)
	good := buildPart(f, recs, 2)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte(partMagic + partEndMagic))
	f.Add([]byte{})
	// A small memory bound keeps hostile frames from exhausting memory.
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(16<<20))
	if err != nil {
		f.Fatal(err)
	}
	defer dec.Close()
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _, _ = readAll(data, dec)
	})
}

// FuzzBlockAndIndexDecode feeds arbitrary stored block bytes (whose
// checksum a real read would have checked) and uncompressed index bytes to
// the block and index decoders.
func FuzzBlockAndIndexDecode(f *testing.F) {
	recs := genRecords(rand.New(rand.NewPCG(9, 10)), 40, 0)
	var b blockBuilder
	for i := range recs {
		recs[i].Stream = recs[0].Stream
		if i == 0 {
			b.reset(&recs[0], "k")
		}
		b.add(&recs[i], nil)
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(16<<20))
	if err != nil {
		f.Fatal(err)
	}
	defer dec.Close()
	enc, _, err := newCodecs(1)
	if err != nil {
		f.Fatal(err)
	}
	// Seeds with every column stored raw (which the fuzzer can mutate
	// meaningfully) and with the large ones compressed.
	var m blockMeta
	for _, e := range []*blockEncoder{{}, {enc: enc}} {
		stored := b.encode(nil, &m, e)
		m.offset = partHeaderLen
		f.Add(stored, appendIndex(nil, []blockMeta{m}))
	}
	// And with whole-second times over hours: scaled timestamps and a
	// time index.
	for i := range b.times {
		b.times[i] = testBase + int64(i)*600e9
	}
	stored := b.encode(nil, &m, &blockEncoder{})
	m.offset = partHeaderLen
	f.Add(stored, appendIndex(nil, []blockMeta{m}))
	enc.Close()
	fields := m.fields
	f.Add([]byte{}, []byte{})
	f.Fuzz(func(t *testing.T, stored, idx []byte) {
		// A projection decodes fewer columns, so it may accept a block
		// that a full decode rejects, but never the other way round, and
		// it must yield the same levels.
		var levels [2][]string
		var errs [2]error
		for i, need := range []map[string]bool{nil, {"level": true}} {
			var d decodedBlock
			if errs[i] = decodeBlock(stored, fields, dec, &d, need); errs[i] == nil {
				var r record.Record
				d.rewind()
				for row := range d.times {
					d.row(row, &r)
					v, _ := r.Get("level")
					levels[i] = append(levels[i], v)
				}
			}
		}
		if errs[0] == nil && (errs[1] != nil || !slices.Equal(levels[0], levels[1])) {
			t.Fatalf("full decode: %v, projected: %v; levels %q vs %q", errs[0], errs[1], levels[0], levels[1])
		}
		for _, spans := range []bool{false, true} {
			if metas, err := decodeIndex(string(idx), 1<<40, spans); err == nil {
				for i := range metas {
					metas[i].MayContainToken("f", "t")
					metas[i].NumRange("f")
					metas[i].rowWindow(metas[i].minTime+1, metas[i].maxTime)
				}
			}
		}
	})
}

// FuzzMetaIndexDecode feeds arbitrary bytes to the meta-index decoder: it
// must return an error or a meta-index whose chunks lie inside the part,
// never panic.
func FuzzMetaIndexDecode(f *testing.F) {
	recs := genRecords(rand.New(rand.NewPCG(9, 11)), 200, 0)
	data := buildPart(f, recs, 8)
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(16<<20))
	if err != nil {
		f.Fatal(err)
	}
	defer dec.Close()
	p := memPart(data, "0000000000000001", dec)
	mi, err := p.metaIndex()
	if err != nil {
		f.Fatal(err)
	}
	end := int64(len(data)) - footerLen - 10
	f.Add(appendMetaIndex(nil, mi.chunks), end)
	f.Add([]byte{}, end)
	f.Fuzz(func(t *testing.T, raw []byte, end int64) {
		mi, err := decodeMetaIndex(string(raw), end)
		if err != nil {
			return
		}
		prev := partHeaderLen
		for _, c := range mi.chunks {
			if c.offset <= prev || c.offset+c.length > end || c.blocks < 1 || c.blocks > chunkBlocks {
				t.Fatalf("accepted chunk %+v after %d, part data ending at %d", c, prev, end)
			}
			prev = c.offset + c.length
		}
	})
}

// decodeBlock decodes a whole block's stored bytes as readBlock does, but
// without checking the checksums, so that fuzzed bytes reach the header
// and column decoders.
func decodeBlock(stored []byte, fields []string, dec *zstd.Decoder, d *decodedBlock, need map[string]bool) error {
	h, err := d.decodeHeader(stored, fields, int64(len(stored)), need)
	if err != nil {
		return err
	}
	return d.decodeColumns(stored[h:], fields, dec)
}

// TestBlockCorruptionDetected flips one byte in the header and in every
// column of every block: a flipped header byte must fail every read of
// the block, a flipped column byte every read that decodes that column
// (and the full read), with errCorrupt naming the part.
func TestBlockCorruptionDetected(t *testing.T) {
	recs := genRecords(rand.New(rand.NewPCG(3, 4)), 300, 0)
	for i := range recs {
		recs[i].Time = testBase + int64(i)*1e6
	}
	good := buildPart(t, recs, 64)
	dec := testDecoder(t)
	goodP := memPart(good, "0000000000000001", dec)
	blocks, err := partBlocks(goodP)
	if err != nil {
		t.Fatal(err)
	}
	needs := []map[string]bool{nil, {}, {"level": true}, {record.MessageField: true}}
	// decodes reports whether a read with need decodes column col of m.
	decodes := func(m *blockMeta, need map[string]bool, col int) bool {
		switch {
		case need == nil || col == 0:
			return true
		case col == 1:
			return need[record.MessageField]
		}
		return need[m.fields[col-2]]
	}
	flips := 0
	for bi, b := range blocks {
		m := b.meta()
		var d decodedBlock
		stored := good[m.offset : m.offset+m.length]
		if err := decodeBlock(stored, m.fields, dec, &d, nil); err != nil {
			t.Fatal(err)
		}
		// Positions to damage: the header's first and last byte (in the
		// last column's checksum), and the first and last byte of every
		// column; col -1 is the header.
		type flip struct {
			at  int64
			col int
		}
		flipsAt := []flip{{m.offset, -1}, {m.offset + int64(m.headerLen) - 1, -1}}
		for i, c := range d.dirs {
			if c.stored > 0 {
				at := m.offset + int64(m.headerLen+c.off)
				flipsAt = append(flipsAt, flip{at, i}, flip{at + int64(c.stored) - 1, i})
			}
		}
		// The header as a search keeps it after a first, good read.
		if _, err := goodP.readBlock(b.c, b.i, nil, &decodedBlock{}, nil, true); err != nil {
			t.Fatal(err)
		}
		kept := b.c.headers[b.i].Load()
		for _, f := range flipsAt {
			bad := slices.Clone(good)
			bad[f.at] ^= 0x10
			// Each way to read: fresh or from a kept header (which a
			// flipped header byte no longer reaches), with the
			// timestamps read along, left to loadTimes, or read with the
			// other columns and parsed by loadTimes (prefetch).
			for _, keptHeader := range []bool{false, true} {
				if keptHeader && f.col < 0 {
					continue
				}
				for _, mode := range []struct{ lazy, prefetch bool }{{false, false}, {true, false}, {true, true}} {
					lazy := mode.lazy
					p := memPart(bad, "00000000000000ab", dec)
					pb, err := partBlocks(p)
					if err != nil {
						t.Fatalf("the index of a part with a flipped block byte: %v", err)
					}
					c, i := pb[bi].c, pb[bi].i
					if keptHeader {
						c.headers[i].Store(kept)
					}
					for _, need := range needs {
						if f.col >= 0 && !decodes(m, need, f.col) {
							continue
						}
						d := decodedBlock{lazyTimes: lazy, prefetchTimes: mode.prefetch}
						_, err := p.readBlock(c, i, nil, &d, need, false)
						if err == nil && lazy {
							err = d.loadTimes()
						}
						if !errors.Is(err, errCorrupt) || !strings.Contains(err.Error(), "00000000000000ab") {
							t.Fatalf("block %d, byte %d (column %d) flipped, need %v, kept header %v, lazy times %v, prefetch %v: %v",
								bi, f.at, f.col, need, keptHeader, lazy, mode.prefetch, err)
						}
					}
				}
			}
			flips++
		}
	}
	if flips < 4*len(blocks) {
		t.Fatalf("only %d flips over %d blocks", flips, len(blocks))
	}
}

func TestOlderPartFormatRejected(t *testing.T) {
	data := buildPart(t, genRecords(rand.New(rand.NewPCG(1, 2)), 10, 0), 100)
	copy(data, partMagicV1)
	_, err := memPart(data, "0000000000000001", testDecoder(t)).metaIndex()
	if !errors.Is(err, errCorrupt) || !strings.Contains(err.Error(), "version 1") {
		t.Fatalf("loading a version 1 part: %v", err)
	}
}

// TestProjectionDecodesOnlyNeededColumns checks that a projected read
// yields exactly the projected fields of a full read, and that the
// dictionary view of a column agrees with its rows.
func TestProjectionDecodesOnlyNeededColumns(t *testing.T) {
	recs := genRecords(rand.New(rand.NewPCG(7, 8)), 6000, 0)
	for i := range recs {
		recs[i].Time = testBase + int64(i)*1e6
	}
	data := buildPart(t, recs, 2000)
	dec := testDecoder(t)
	p := memPart(data, "0000000000000001", dec)
	blocks, err := partBlocks(p)
	if err != nil {
		t.Fatal(err)
	}
	dicts, smaller := 0, 0
	for bi, b := range blocks {
		m := b.meta()
		var full, proj decodedBlock
		if _, err := p.readBlock(b.c, b.i, nil, &full, nil, false); err != nil {
			t.Fatal(err)
		}
		if _, err := p.readBlock(b.c, b.i, nil, &proj, map[string]bool{"level": true}, false); err != nil {
			t.Fatal(err)
		}
		if len(proj.cols) > 1 || !proj.skipMsg {
			t.Fatalf("projection decoded %d columns, message skipped %v", len(proj.cols), proj.skipMsg)
		}
		if full.bytesRead != m.length || proj.bytesRead > full.bytesRead {
			t.Fatalf("block %d of %d bytes: a full read read %d, a projected one %d", bi, m.length, full.bytesRead, proj.bytesRead)
		}
		if proj.bytesRead < full.bytesRead {
			smaller++
		}
		// Once the header is kept, a read with lazy times fetches the
		// level column alone, and loadTimes the times, exactly.
		level := map[string]bool{"level": true}
		if _, err := p.readBlock(b.c, b.i, nil, &decodedBlock{}, level, true); err != nil {
			t.Fatal(err)
		}
		lazy := decodedBlock{lazyTimes: true}
		if _, err := p.readBlock(b.c, b.i, nil, &lazy, level, true); err != nil {
			t.Fatal(err)
		}
		levelStored := 0
		if li := slices.Index(m.fields, "level"); li >= 0 {
			levelStored = lazy.dirs[li+2].stored
		}
		if lazy.bytesRead != int64(levelStored) {
			t.Fatalf("block %d: a read from the kept header read %d bytes, the level column has %d", bi, lazy.bytesRead, levelStored)
		}
		if err := lazy.loadTimes(); err != nil || !slices.Equal(lazy.times, full.times) {
			t.Fatalf("block %d: lazy times %v (%v), want %v", bi, lazy.times, err, full.times)
		}
		values, codes, bitmap, isDict := proj.dictColumn("level")
		full.rewind()
		proj.rewind()
		present := 0
		var fr, pr record.Record
		for row := range full.times {
			full.row(row, &fr)
			proj.row(row, &pr)
			want, ok := fr.Get("level")
			got, gok := pr.Get("level")
			if fr.Time != pr.Time || want != got || ok != gok || len(pr.Fields) > 1 || pr.Message != "" {
				t.Fatalf("block %d row %d: full %v, projected %v", bi, row, fr, pr)
			}
			if isDict && (bitmap == "" || bitmap[row/8]&(1<<(row%8)) != 0) {
				v := values[0]
				if codes != "" {
					v = values[codes[present]]
				}
				if v != want {
					t.Fatalf("block %d row %d: dictionary says %q, row %q", bi, row, v, want)
				}
				present++
			}
		}
		if isDict {
			dicts++
		}
	}
	if dicts == 0 {
		t.Fatal("no block stored level as a dictionary")
	}
	if smaller == 0 {
		t.Fatal("no projected read read less than its whole block")
	}
}

func TestCheckFrameSum(t *testing.T) {
	raw := bytes.Repeat([]byte("a version 2 index, guarded by its frame checksum alone "), 40)
	frame := func(crc bool) []byte {
		enc, err := zstd.NewWriter(nil, zstd.WithEncoderCRC(crc))
		if err != nil {
			t.Fatal(err)
		}
		defer enc.Close()
		return enc.EncodeAll(raw, nil)
	}
	withSum, withoutSum := frame(true), frame(false)
	badSum := bytes.Clone(withSum)
	badSum[len(badSum)-1] ^= 1
	otherRaw := bytes.Clone(raw)
	otherRaw[7] ^= 1
	for _, tc := range []struct {
		name      string
		comp, raw []byte
		ok        bool
	}{
		{"checksum matches", withSum, raw, true},
		{"no checksum in the frame", withoutSum, raw, true},
		{"checksum damaged", badSum, raw, false},
		{"content differs", withSum, otherRaw, false},
		{"truncated frame with the flag", withSum[:6], raw, false},
	} {
		if err := checkFrameSum(tc.comp, tc.raw); (err == nil) != tc.ok {
			t.Errorf("%s: checkFrameSum = %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}
