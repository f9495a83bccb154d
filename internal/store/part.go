package store

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/cespare/xxhash/v2"
	"github.com/klauspost/compress/zstd"
)

// Part file layouts (FORMAT.md has the details):
//
//	version 6: as version 5 with "SLPART6\n" and "SLPEND6\n", packed column encodings (7, 8)
//	version 5: as version 4 with "SLPART5\n" and "SLPEND5\n", bloom filters of any whole number of words
//	version 4: "SLPART4\n" | (blocks, index chunk)… | meta-index (zstd) | footer
//	           footer: meta-index offset u64 | length u64 | xxhash64 u64 | sha256 | "SLPEND4\n"
//	version 3: as version 4 with "SLPART3\n" and "SLPEND3\n", index entries without a time index
//	version 2: "SLPART2\n" | blocks | index (zstd) | footer
//	           footer: index offset u64 | index length u64 | sha256 | "SLPEND2\n"
//
// All hold sha256 of every byte before the footer. Versions 3 to 5 keep the
// block metadata in chunks of at most chunkBlocks blocks that a search
// loads on demand through the index cache; version 2 parts, written by
// earlier builds, stay readable: their one index frame is decoded whole
// and split into the same chunks in the cache.
const (
	partMagic      = "SLPART6\n"
	partEndMagic   = "SLPEND6\n"
	partMagicV5    = "SLPART5\n"
	partEndMagicV5 = "SLPEND5\n"
	partMagicV4    = "SLPART4\n"
	partEndMagicV4 = "SLPEND4\n"
	partMagicV3    = "SLPART3\n"
	partEndMagicV3 = "SLPEND3\n"
	partMagicV2    = "SLPART2\n"
	partEndMagicV2 = "SLPEND2\n"
	// partMagicV1 is the development format before per-column blocks;
	// nothing written with it shipped, so it is recognised only to say so.
	partMagicV1   = "SLPART1\n"
	partHeaderLen = int64(len(partMagic))
	footerLen     = 8 + 8 + 8 + sha256.Size + 8
	footerLenV2   = 8 + 8 + sha256.Size + 8
)

// part is an immutable part file in service. Only what a search needs to
// decide whether to look into the part at all stays in memory (its name,
// size, record count and time range, from the manifest); its file is
// opened through the store's file cache when a read needs it, and its
// index through the index cache. The store holds one reference; each
// search holds another while it reads, so a part that a merge or
// retention removed stays readable until its last search ends.
type part struct {
	mref      partRef // as the manifest records it
	partition string
	name      string
	id        uint64 // name as a number, the part's key in the caches
	path      string
	size      int64
	sha256    string
	records   int64
	minTime   int64
	maxTime   int64
	refs      atomic.Int32
	// added is when the part joined the served set (opened, flushed or
	// merged), which tells how long its partition has been idle.
	added time.Time
	io    *partIO
	// nchunks is the number of the part's index chunks once known (by
	// its writer or a meta-index load), so that the cache can drop them.
	nchunks atomic.Int32
	// fmu guards file (see fileCache).
	fmu  sync.Mutex
	file fileEntry
	// verified says that the file's sha256 matched the manifest's since
	// the store opened: this process wrote the part, or its first read,
	// the scrubber or a merge hashed it.
	verified atomic.Bool
	// checkMu guards checking, the one sha256 check in flight that the
	// reads, merges and the scrubber meeting the part unverified wait for
	// (see Store.checkFirstRead), and checkErr, its last verdict.
	checkMu  sync.Mutex
	checking *partCheck
	checkErr error
	// quarantined is set when a read found the part damaged, so that
	// parallel workers stop reading it.
	quarantined atomic.Bool
	// pinned says that the store retired the part and pinned its file
	// open before deleting it, for the searches that still hold a
	// reference (Store.retire); the last reference unpins it.
	pinned atomic.Bool
}

// partSummaryBytes is about the memory a served part keeps whatever the
// caches hold: the struct and its strings.
const partSummaryBytes = int64(unsafe.Sizeof(part{})) + 16 + 16 + 64 + 64

// partIO is what parts read through, shared by a store's parts.
type partIO struct {
	files *fileCache
	index *indexCache
	dec   *zstd.Decoder
	// check, when set, is called before a read of a part whose sha256
	// this process has not checked, and fails the read when the check
	// does (a serving store's Store.checkFirstRead); a part read on its
	// own (Verify, salvage) has none.
	check func(p *part) error
}

func newPart(ref partRef, path string, pio *partIO) *part {
	p := &part{mref: ref, partition: ref.Partition, name: ref.Name, path: path, size: ref.Size, sha256: ref.SHA256,
		records: ref.Records, minTime: ref.MinTime, maxTime: ref.MaxTime, io: pio}
	p.id, _ = strconv.ParseUint(ref.Name, 16, 64)
	if ref.MinTime == 0 && ref.MaxTime == 0 {
		// Written before the manifest recorded times: the partition's day.
		if start, end, ok := partitionBounds(ref.Partition); ok {
			p.minTime, p.maxTime = start, end-1
		} else {
			p.minTime, p.maxTime = math.MinInt64, math.MaxInt64
		}
	}
	p.refs.Store(1)
	return p
}

func (p *part) incRef() { p.refs.Add(1) }

// decRef drops a reference; the last one closes the file and drops the
// part's index from the cache.
func (p *part) decRef() {
	if p.refs.Add(-1) == 0 {
		if p.pinned.Load() {
			p.io.files.release(p)
		}
		p.io.files.forget(p)
		p.io.index.dropPart(p.id, int(p.nchunks.Load()))
	}
}

// retire drops the store's reference to parts it no longer serves (a
// merge replaced them, retention dropped them), whose files the caller
// deletes next: the searches that hold a reference read on from the
// deleted file, which stays open for them (pinned, so that the file cache
// does not close it) until the last reference goes.
func (s *Store) retire(parts []*part) {
	for _, p := range parts {
		if _, err := s.pio.files.acquire(p); err == nil {
			p.pinned.Store(true)
		}
		p.decRef()
	}
}

// ref is the part as the manifest records it.
func (p *part) ref() partRef { return p.mref }

// readAt preads b at off from the part's file, opening it if needed, and
// counts the bytes in d.bytesRead when d is not nil. The first read of a
// part in this process waits for its sha256 check (partIO.check).
func (p *part) readAt(b []byte, off int64, d *decodedBlock) error {
	if !p.verified.Load() && p.io.check != nil {
		if err := p.io.check(p); err != nil {
			return err
		}
	}
	f, err := p.io.files.acquire(p)
	if err != nil {
		return err
	}
	_, err = f.ReadAt(b, off)
	p.io.files.release(p)
	if err != nil {
		return fmt.Errorf("read part %s at %d: %w", p.name, off, err)
	}
	if d != nil {
		d.bytesRead += int64(len(b))
	}
	return nil
}

// metaIndex returns the part's meta-index, through the index cache.
func (p *part) metaIndex() (*metaIndex, error) {
	v, err := p.io.index.get(cacheKey{p.id, metaIndexChunk}, p.loadMetaIndex)
	if err != nil {
		return nil, err
	}
	return v.(*metaIndex), nil
}

// chunk returns index chunk ci of the part, through the index cache.
func (p *part) chunk(mi *metaIndex, ci int) (*indexChunk, error) {
	v, err := p.io.index.get(cacheKey{p.id, int32(ci)}, func() (cached, error) { return p.loadChunk(mi, ci) })
	if err != nil {
		return nil, err
	}
	return v.(*indexChunk), nil
}

// chunkOnce returns index chunk ci for a reader that reads it once (a
// merge): from the cache if there, else loaded without keeping it.
func (p *part) chunkOnce(mi *metaIndex, ci int) (*indexChunk, error) {
	if v := p.io.index.peek(cacheKey{p.id, int32(ci)}); v != nil {
		return v.(*indexChunk), nil
	}
	return p.loadChunk(mi, ci)
}

// loadMetaIndex reads the footer and the meta-index of a version 3 part;
// of a version 2 part it decodes the whole index and splits it into
// chunks, which it puts in the cache (they are decoded anyway).
func (p *part) loadMetaIndex() (cached, error) {
	if p.size < partHeaderLen+footerLenV2 {
		return nil, fmt.Errorf("%w: part %s of %d bytes is too short", errCorrupt, p.name, p.size)
	}
	head := make([]byte, partHeaderLen)
	if err := p.readAt(head, 0, nil); err != nil {
		return nil, err
	}
	switch string(head) {
	case partMagic:
		return p.loadMetaIndexV3(partEndMagic, false)
	case partMagicV5:
		return p.loadMetaIndexV3(partEndMagicV5, false)
	case partMagicV4:
		return p.loadMetaIndexV3(partEndMagicV4, false)
	case partMagicV3:
		return p.loadMetaIndexV3(partEndMagicV3, true)
	case partMagicV2:
		mi, chunks, err := p.loadIndexV2()
		if err != nil {
			return nil, err
		}
		for _, c := range chunks {
			p.io.index.put(c.key, c)
		}
		return mi, nil
	case partMagicV1:
		return nil, fmt.Errorf("%w: part %s: format version 1, written by an older development build; this build reads versions 2 to 6", errCorrupt, p.name)
	default:
		return nil, fmt.Errorf("%w: part %s: bad magic", errCorrupt, p.name)
	}
}

// loadMetaIndexV3 reads the meta-index of a version 6, 5 or 4 part, or of a
// version 3 part when v3 is set (the footer ending in endMagic).
func (p *part) loadMetaIndexV3(endMagic string, v3 bool) (cached, error) {
	if p.size < partHeaderLen+footerLen {
		return nil, fmt.Errorf("%w: part %s of %d bytes is too short", errCorrupt, p.name, p.size)
	}
	foot := make([]byte, footerLen)
	if err := p.readAt(foot, p.size-footerLen, nil); err != nil {
		return nil, err
	}
	if string(foot[footerLen-8:]) != endMagic {
		return nil, fmt.Errorf("%w: part %s: bad footer magic", errCorrupt, p.name)
	}
	off := binary.LittleEndian.Uint64(foot[0:8])
	length := binary.LittleEndian.Uint64(foot[8:16])
	sum := binary.LittleEndian.Uint64(foot[16:24])
	dataEnd := uint64(p.size - footerLen)
	if off < uint64(partHeaderLen) || off > dataEnd || length != dataEnd-off {
		return nil, fmt.Errorf("%w: part %s: meta-index outside the part", errCorrupt, p.name)
	}
	comp := make([]byte, length)
	if err := p.readAt(comp, int64(off), nil); err != nil {
		return nil, err
	}
	if xxhash.Sum64(comp) != sum {
		return nil, fmt.Errorf("%w: part %s: meta-index checksum mismatch", errCorrupt, p.name)
	}
	raw, err := p.io.dec.DecodeAll(comp, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: part %s: decompress meta-index: %v", errCorrupt, p.name, err)
	}
	mi, err := decodeMetaIndex(string(raw), int64(off))
	if err != nil {
		return nil, fmt.Errorf("decode meta-index of part %s: %w", p.name, err)
	}
	mi.v3 = v3
	p.nchunks.Store(int32(len(mi.chunks)))
	return mi, nil
}

// loadIndexV2 reads a version 2 part's index and splits it into chunks
// as a version 3 writer would.
func (p *part) loadIndexV2() (*metaIndex, []*indexChunk, error) {
	foot := make([]byte, footerLenV2)
	if err := p.readAt(foot, p.size-footerLenV2, nil); err != nil {
		return nil, nil, err
	}
	if string(foot[footerLenV2-8:]) != partEndMagicV2 {
		return nil, nil, fmt.Errorf("%w: part %s: bad footer magic", errCorrupt, p.name)
	}
	idxOff := binary.LittleEndian.Uint64(foot[0:8])
	idxLen := binary.LittleEndian.Uint64(foot[8:16])
	dataEnd := uint64(p.size - footerLenV2)
	if idxOff < uint64(partHeaderLen) || idxOff > dataEnd || idxLen != dataEnd-idxOff {
		return nil, nil, fmt.Errorf("%w: part %s: index outside the part", errCorrupt, p.name)
	}
	comp := make([]byte, idxLen)
	if err := p.readAt(comp, int64(idxOff), nil); err != nil {
		return nil, nil, err
	}
	// The frame's own checksum (zstd's, which the writer included)
	// guards the index: version 2 has no other. The decoder skips
	// frame checksums, so it is checked here.
	raw, err := p.io.dec.DecodeAll(comp, nil)
	if err == nil {
		err = checkFrameSum(comp, raw)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%w: part %s: decompress index: %v", errCorrupt, p.name, err)
	}
	metas, err := decodeIndex(string(raw), int64(idxOff), false)
	if err != nil {
		return nil, nil, fmt.Errorf("decode index of part %s: %w", p.name, err)
	}
	mi, chunks, err := splitIndex(metas)
	if err != nil {
		return nil, nil, fmt.Errorf("split index of part %s: %w", p.name, err)
	}
	mi.v2 = true
	p.nchunks.Store(int32(len(chunks)))
	for ci, c := range chunks {
		c.key = cacheKey{p.id, int32(ci)}
	}
	return mi, chunks, nil
}

// loadChunk reads, checks and decodes index chunk ci.
func (p *part) loadChunk(mi *metaIndex, ci int) (*indexChunk, error) {
	if mi.v2 {
		// Evicted from the cache: the whole index again, and its other
		// chunks back in the cache, since they are decoded anyway.
		_, chunks, err := p.loadIndexV2()
		if err != nil {
			return nil, err
		}
		if ci >= len(chunks) {
			return nil, fmt.Errorf("%w: part %s has no index chunk %d", errCorrupt, p.name, ci)
		}
		for i, c := range chunks {
			if i != ci {
				p.io.index.put(c.key, c)
			}
		}
		return chunks[ci], nil
	}
	c := &mi.chunks[ci]
	comp := make([]byte, c.length)
	if err := p.readAt(comp, c.offset, nil); err != nil {
		return nil, err
	}
	if xxhash.Sum64(comp) != c.checksum {
		return nil, fmt.Errorf("%w: part %s: index chunk %d checksum mismatch", errCorrupt, p.name, ci)
	}
	raw, err := p.io.dec.DecodeAll(comp, make([]byte, 0, c.rawLen))
	if err != nil || len(raw) != c.rawLen {
		return nil, fmt.Errorf("%w: part %s: decompress index chunk %d: %d bytes, %v", errCorrupt, p.name, ci, len(raw), err)
	}
	metas, err := decodeIndex(string(raw), c.offset, !mi.v3)
	if err == nil && len(metas) != c.blocks {
		err = fmt.Errorf("%w: %d blocks, meta-index says %d", errCorrupt, len(metas), c.blocks)
	}
	if err != nil {
		return nil, fmt.Errorf("decode index chunk %d of part %s: %w", ci, p.name, err)
	}
	ic := newIndexChunk(metas, int64(len(raw)))
	ic.key = cacheKey{p.id, int32(ci)}
	return ic, nil
}

// checkPart checks a part file of the size and sha256 ref gives: its
// whole sha256, then that its index decodes. Verify uses it; a serving
// store hashes with verifyHash (the scrubber) and decodes on demand.
func checkPart(f *os.File, ref partRef, dec *zstd.Decoder) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.Size() != ref.Size {
		return fmt.Errorf("%w: size %d, manifest says %d", errCorrupt, st.Size(), ref.Size)
	}
	if err := verifyHash(io.NewSectionReader(f, 0, st.Size()), ref.SHA256, nil); err != nil {
		return err
	}
	// A part on its own: its caches live for this check only.
	pio := &partIO{files: newFileCache(1, func(*part) (partFile, error) { return nopCloser{f}, nil }), index: newIndexCache(64 << 20), dec: dec}
	p := newPart(ref, "", pio)
	defer p.decRef()
	mi, err := p.metaIndex()
	if err != nil {
		return err
	}
	for ci := range mi.chunks {
		if _, err := p.chunkOnce(mi, ci); err != nil {
			return err
		}
	}
	return nil
}

// checkPartFile is checkPart of the file at path.
func checkPartFile(path string, ref partRef, dec *zstd.Decoder) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open part %s: %w", path, err)
	}
	defer f.Close()
	return checkPart(f, ref, dec)
}

// nopCloser makes an io.ReaderAt a partFile whose Close does nothing.
type nopCloser struct{ io.ReaderAt }

func (nopCloser) Close() error { return nil }

// verifyHash hashes r and compares the sum with want; wait, when not nil,
// is called after each read with its length (the scrubber's pace).
func verifyHash(r io.Reader, want string, wait func(n int) error) error {
	h := sha256.New()
	buf := make([]byte, 1<<20)
	for {
		n, err := r.Read(buf)
		h.Write(buf[:n])
		if wait != nil && n > 0 {
			if werr := wait(n); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("hash part: %w", err)
		}
	}
	if sum := fmt.Sprintf("%x", h.Sum(nil)); sum != want {
		return fmt.Errorf("%w: sha256 %s, manifest says %s", errCorrupt, sum, want)
	}
	return nil
}

// maxReadGap is the most stored bytes of unneeded columns that readBlock
// reads (and checks) rather than split a read in two: below a few pages, a
// second pread costs more than copying and hashing the gap.
const maxReadGap = 4 << 10

// maxTimesGap is maxReadGap after timestamps that a search reads
// beside the columns it decodes (decodedBlock.prefetchTimes).
const maxTimesGap = 64 << 10

// readBlock decodes into d the fields in need of block bi of index chunk
// c (all when nil; see decodeHeader), using buf as the block's scratch.
// Its first read preads the block's header (with up to maxReadGap bytes
// after it, which saves a second pread for the first columns of many
// blocks), checks the header against the index entry's checksum and,
// when keep is set, keeps it parsed in the chunk (indexChunk.headers); a
// later read starts from the kept header. It then preads only the
// columns it decodes (adjacent ones, and ones separated by less than
// maxReadGap, in one pread) and checks every column it read against its
// own checksum before decompressing anything. Damage in a column a read
// skips goes unnoticed by that read; the part's sha256 covers it, checked
// before the part's first read (readAt), by the scrubber and by Verify.
// With d.lazyTimes the timestamps are left to loadTimes. d.bytesRead is set to the bytes read. buf is returned for
// reuse; d's strings do not alias it.
func (p *part) readBlock(c *indexChunk, bi int, buf []byte, d *decodedBlock, need map[string]bool, keep bool) ([]byte, error) {
	buf, data, have, err := p.readBlockColumns(c, bi, buf, d, need, keep)
	if err != nil {
		return buf, err
	}
	m := &c.metas[bi]
	d.lazy.p, d.lazy.m, d.lazy.dec, d.lazy.data, d.lazy.have = p, m, p.io.dec, data, have
	if err := d.decodeColumns(data, m.fields, p.io.dec); err != nil {
		return buf, fmt.Errorf("decode block of part %s at %d: %w", p.name, m.offset, err)
	}
	return buf, nil
}

// readBlockRaw reads block bi of chunk c whole, checks its header and
// every column, and decompresses the columns into d.raw (d.spans says
// where each begins) without parsing them: what a merge needs to write
// the block again as it is (see partWriter.copyBlock).
func (p *part) readBlockRaw(c *indexChunk, bi int, buf []byte, d *decodedBlock) ([]byte, error) {
	d.lazyTimes = false
	buf, data, _, err := p.readBlockColumns(c, bi, buf, d, nil, false)
	if err != nil {
		return buf, err
	}
	if err := d.decompress(data, p.io.dec); err != nil {
		return buf, fmt.Errorf("decode block of part %s at %d: %w", p.name, c.metas[bi].offset, err)
	}
	return buf, nil
}

// readBlockStored reads block bi of chunk c whole into buf, as it is
// stored, and checks it as a read that decodes it would: the header
// against the index entry and each column's checksum. d receives the
// header's column directory.
func (p *part) readBlockStored(c *indexChunk, bi int, buf []byte, d *decodedBlock) ([]byte, error) {
	m := &c.metas[bi]
	d.bytesRead = 0
	buf = slicesGrow(buf, int(m.length))
	if err := p.readAt(buf[:m.length], m.offset, d); err != nil {
		return buf, err
	}
	if err := p.checkHeader(m, buf[:m.headerLen], d, nil); err != nil {
		return buf, err
	}
	data := buf[m.headerLen:m.length]
	for i := range d.dirs {
		c := &d.dirs[i]
		if c.off < 0 || c.stored < 0 || c.off+c.stored > len(data) {
			return buf, fmt.Errorf("%w: column %d out of block of part %s at %d", errCorrupt, i, p.name, m.offset)
		}
		if xxhash.Sum64(data[c.off:c.off+c.stored]) != c.sum {
			return buf, fmt.Errorf("%w: column %d checksum mismatch in block of part %s at %d", errCorrupt, i, p.name, m.offset)
		}
	}
	return buf, nil
}

// readBlockColumns reads the header of block bi of chunk c (or takes the
// one kept) and the columns need asks for, checking each, and returns the
// block's column data and how much of it was read with the header.
func (p *part) readBlockColumns(c *indexChunk, bi int, buf []byte, d *decodedBlock, need map[string]bool, keep bool) ([]byte, []byte, int, error) {
	m := &c.metas[bi]
	d.bytesRead = 0
	buf = slicesGrow(buf, int(m.length))
	have := 0 // bytes of column data read with the header
	if h := c.headers[bi].Load(); h != nil {
		d.rows, d.rawLen = h.rows, h.rawLen
		d.dirs = append(d.dirs[:0], h.dirs...)
		d.markColumns(m.fields, need)
	} else {
		first := min(int(m.length), m.headerLen+maxReadGap)
		if err := p.readAt(buf[:first], m.offset, d); err != nil {
			return buf, nil, 0, err
		}
		have = first - m.headerLen
		if err := p.checkHeader(m, buf[:m.headerLen], d, need); err != nil {
			return buf, nil, 0, err
		}
		if keep {
			p.keepHeader(c, bi, d)
		}
	}
	data := buf[m.headerLen:]
	if err := p.readColumns(m, data, have, d); err != nil {
		return buf, nil, 0, err
	}
	return buf, data, have, nil
}

// checkHeader checks hdr, the stored header of block m, against the
// index entry and decodes it into d.
func (p *part) checkHeader(m *blockMeta, hdr []byte, d *decodedBlock, need map[string]bool) error {
	if xxhash.Sum64(hdr) != m.checksum {
		return fmt.Errorf("%w: block header checksum mismatch in part %s at %d", errCorrupt, p.name, m.offset)
	}
	if _, err := d.decodeHeader(hdr, m.fields, m.length, need); err != nil {
		return fmt.Errorf("decode block header of part %s at %d: %w", p.name, m.offset, err)
	}
	if d.rawLen != m.rawLen {
		return fmt.Errorf("%w: block of part %s at %d has %d raw bytes, index says %d", errCorrupt, p.name, m.offset, d.rawLen, m.rawLen)
	}
	if d.rows != m.count {
		return fmt.Errorf("%w: block of part %s at %d has %d records, index says %d", errCorrupt, p.name, m.offset, d.rows, m.count)
	}
	return nil
}

// readColumns preads into data (the block's column data, whose first have
// bytes are read) the columns d.spans marks, coalescing them into as few
// reads as maxReadGap allows (maxTimesGap after timestamps read for
// d.prefetchTimes), and checks every column it read whole that is
// decoded or prefetched (a column read only in a gap is not looked at).
func (p *part) readColumns(m *blockMeta, data []byte, have int, d *decodedBlock) error {
	// The pending read [lo, hi) starts with the bytes already read (none
	// when the header was kept), which hold column first onwards.
	first, lo, hi := 0, 0, have
	d.timesRead = false
	wanted := func(i int) bool { return d.spans[i] >= 0 || i == 0 && d.prefetchTimes }
	flush := func() error {
		if from := max(lo, have); from < hi {
			if err := p.readAt(data[from:hi], m.offset+int64(m.headerLen+from), d); err != nil {
				return err
			}
		}
		for i := first; i < len(d.dirs) && d.dirs[i].off+d.dirs[i].stored <= hi; i++ {
			c := &d.dirs[i]
			if !wanted(i) {
				continue // read in a gap, not decoded
			}
			if xxhash.Sum64(data[c.off:c.off+c.stored]) != c.sum {
				return fmt.Errorf("%w: column %d checksum mismatch in block of part %s at %d", errCorrupt, i, p.name, m.offset)
			}
			d.timesRead = d.timesRead || i == 0
		}
		return nil
	}
	for i := range d.dirs {
		c := &d.dirs[i]
		if !wanted(i) {
			continue
		}
		// The timestamps, read for a search that will parse them, are
		// worth a longer gap (the message column) than other columns.
		gap := maxReadGap
		if first == 0 && d.prefetchTimes && d.spans[0] < 0 {
			gap = maxTimesGap
		}
		// With nothing read yet (a kept header), the first read starts at
		// the first column needed.
		if c.off-hi > gap || hi == 0 {
			if err := flush(); err != nil {
				return err
			}
			first, lo, hi = i, c.off, c.off
		}
		hi = max(hi, c.off+c.stored)
	}
	return flush()
}

func slicesGrow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

// checkFrameSum checks raw, the content of comp, a single zstd frame,
// against the frame's content checksum (the low 32 bits of its xxhash64,
// in the frame's last 4 bytes) when the frame has one, as zstd's decoder
// does when it checks them.
func checkFrameSum(comp, raw []byte) error {
	// The magic number (4 bytes), then the frame header descriptor,
	// whose bit 2 is the content checksum flag.
	if len(comp) < 5 || comp[4]&4 == 0 {
		return nil
	}
	if len(comp) < 9 || binary.LittleEndian.Uint32(comp[len(comp)-4:]) != uint32(xxhash.Sum64(raw)) {
		return errors.New("frame checksum mismatch")
	}
	return nil
}
