package store

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"sync/atomic"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/klauspost/compress/zstd"
)

// Part file layout (FORMAT.md has the details):
//
//	header "SLPART2\n" | blocks | index (zstd) | footer
//	footer: index offset u64 | index length u64 | sha256 of all bytes before the footer | "SLPEND2\n"
const (
	partMagic    = "SLPART2\n"
	partEndMagic = "SLPEND2\n"
	// partMagicV1 is the development format before per-column blocks;
	// nothing written with it shipped, so it is recognised only to say so.
	partMagicV1   = "SLPART1\n"
	partHeaderLen = int64(len(partMagic))
	footerLen     = 8 + 8 + sha256.Size + 8
)

// part is an immutable part file opened for searching. The store holds one
// reference; each search holds another while it reads, so a part that a
// merge or retention removed stays readable until its last search ends.
type part struct {
	partition string
	name      string
	f         io.ReaderAt
	closer    io.Closer
	size      int64
	sha256    string
	records   int64
	blocks    []blockMeta
	minTime   int64
	maxTime   int64
	refs      atomic.Int32
	// added is when the part joined the served set (opened, flushed or
	// merged), which tells how long its partition has been idle.
	added time.Time
	// headers holds each block's parsed header once a search has read
	// it (see blockHeader); headerBytes is their memory.
	headers     []atomic.Pointer[blockHeader]
	headerBytes atomic.Int64
	// indexBytes is the memory of the part's index (blocks).
	indexBytes int64
	// quarantined is set when a read found the part damaged, so that
	// parallel workers stop reading it.
	quarantined atomic.Bool
}

func (p *part) incRef() { p.refs.Add(1) }

func (p *part) decRef() {
	if p.refs.Add(-1) == 0 && p.closer != nil {
		_ = p.closer.Close()
	}
}

func (p *part) ref() partRef {
	return partRef{Partition: p.partition, Name: p.name, Records: p.records, Size: p.size, SHA256: p.sha256}
}

// loadPart reads the footer and index of a part of size bytes from f. It
// does not check the content hash (the caller does, once, on open).
func loadPart(f io.ReaderAt, size int64, dec *zstd.Decoder) ([]blockMeta, error) {
	if size < partHeaderLen+footerLen {
		return nil, fmt.Errorf("%w: part of %d bytes is too short", errCorrupt, size)
	}
	head := make([]byte, partHeaderLen)
	if _, err := f.ReadAt(head, 0); err != nil {
		return nil, fmt.Errorf("read part header: %w", err)
	}
	switch string(head) {
	case partMagic:
	case partMagicV1:
		return nil, fmt.Errorf("%w: part format version 1, written by an older development build; this build reads version 2 only", errCorrupt)
	default:
		return nil, fmt.Errorf("%w: bad part magic", errCorrupt)
	}
	foot := make([]byte, footerLen)
	if _, err := f.ReadAt(foot, size-footerLen); err != nil {
		return nil, fmt.Errorf("read part footer: %w", err)
	}
	if string(foot[footerLen-8:]) != partEndMagic {
		return nil, fmt.Errorf("%w: bad part footer magic", errCorrupt)
	}
	idxOff := binary.LittleEndian.Uint64(foot[0:8])
	idxLen := binary.LittleEndian.Uint64(foot[8:16])
	dataEnd := uint64(size - footerLen)
	if idxOff < uint64(partHeaderLen) || idxOff > dataEnd || idxLen != dataEnd-idxOff {
		return nil, fmt.Errorf("%w: index outside the part", errCorrupt)
	}
	comp := make([]byte, idxLen)
	if _, err := f.ReadAt(comp, int64(idxOff)); err != nil {
		return nil, fmt.Errorf("read part index: %w", err)
	}
	raw, err := dec.DecodeAll(comp, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: decompress index: %v", errCorrupt, err)
	}
	metas, err := decodeIndex(string(raw), int64(idxOff))
	if err != nil {
		return nil, fmt.Errorf("decode part index: %w", err)
	}
	return metas, nil
}

// openPart opens the part file at path, checks it against the manifest's
// size and sha256, and loads its index.
func openPart(path string, ref partRef, dec *zstd.Decoder) (*part, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open part %s: %w", path, err)
	}
	p, err := checkPart(f, ref, dec)
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("open part %s: %w", path, err)
	}
	p.closer = f
	return p, nil
}

func checkPart(f *os.File, ref partRef, dec *zstd.Decoder) (*part, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() != ref.Size {
		return nil, fmt.Errorf("%w: size %d, manifest says %d", errCorrupt, st.Size(), ref.Size)
	}
	sum, err := fileSHA256(io.NewSectionReader(f, 0, st.Size()))
	if err != nil {
		return nil, err
	}
	if sum != ref.SHA256 {
		return nil, fmt.Errorf("%w: sha256 %s, manifest says %s", errCorrupt, sum, ref.SHA256)
	}
	metas, err := loadPart(f, st.Size(), dec)
	if err != nil {
		return nil, err
	}
	return newPart(ref, f, metas), nil
}

func newPart(ref partRef, f io.ReaderAt, metas []blockMeta) *part {
	p := &part{partition: ref.Partition, name: ref.Name, f: f, size: ref.Size, sha256: ref.SHA256,
		blocks: metas, minTime: math.MaxInt64, maxTime: math.MinInt64,
		headers: make([]atomic.Pointer[blockHeader], len(metas))}
	for i := range metas {
		p.indexBytes += metas[i].memBytes()
		p.records += int64(metas[i].count)
		p.minTime = min(p.minTime, metas[i].minTime)
		p.maxTime = max(p.maxTime, metas[i].maxTime)
	}
	p.refs.Store(1)
	return p
}

func fileSHA256(r io.Reader) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", fmt.Errorf("hash part: %w", err)
	}
	return fmt.Sprintf("%x", h.Sum(nil)), nil
}

// maxReadGap is the most stored bytes of unneeded columns that readBlock
// reads (and checks) rather than split a read in two: below a few pages, a
// second pread costs more than copying and hashing the gap.
const maxReadGap = 4 << 10

// readBlock decodes into d the fields in need of block bi (all when nil;
// see decodeHeader), using buf as the block's scratch. Its first read
// preads the block's header (with up to maxReadGap bytes after it, which
// saves a second pread for the first columns of many blocks), checks the
// header against the index entry's checksum and, when keep is set, keeps
// it parsed (part.headers); a later read starts from the kept header. It
// then preads only the columns it decodes (adjacent ones, and ones
// separated by less than maxReadGap, in one pread) and checks every
// column it read against its own checksum before decompressing anything.
// Damage in a column a read skips goes unnoticed by that read; the part's
// sha256 covers it on open and in Verify. With d.lazyTimes the timestamps
// are left to loadTimes. d.bytesRead is set to the bytes read. buf is
// returned for reuse; d's strings do not alias it.
func (p *part) readBlock(bi int, dec *zstd.Decoder, buf []byte, d *decodedBlock, need map[string]bool, keep bool) ([]byte, error) {
	m := &p.blocks[bi]
	d.bytesRead = 0
	buf = slicesGrow(buf, int(m.length))
	have := 0 // bytes of column data read with the header
	if h := p.headers[bi].Load(); h != nil {
		d.rows, d.rawLen = h.rows, h.rawLen
		d.dirs = append(d.dirs[:0], h.dirs...)
		d.markColumns(m.fields, need)
	} else {
		first := min(int(m.length), m.headerLen+maxReadGap)
		if err := p.readAt(buf[:first], m.offset, d); err != nil {
			return buf, err
		}
		have = first - m.headerLen
		if err := p.checkHeader(m, buf[:m.headerLen], d, need); err != nil {
			return buf, err
		}
		if keep {
			p.keepHeader(bi, d)
		}
	}
	data := buf[m.headerLen:]
	if err := p.readColumns(m, data, have, d); err != nil {
		return buf, err
	}
	d.lazy.p, d.lazy.m, d.lazy.dec, d.lazy.data, d.lazy.have = p, m, dec, data, have
	if err := d.decodeColumns(data, m.fields, dec); err != nil {
		return buf, fmt.Errorf("decode block of part %s at %d: %w", p.name, m.offset, err)
	}
	return buf, nil
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
// reads as maxReadGap allows, and checks every column it read whole.
func (p *part) readColumns(m *blockMeta, data []byte, have int, d *decodedBlock) error {
	// The pending read [lo, hi) starts with the bytes already read (none
	// when the header was kept), which hold column first onwards.
	first, lo, hi := 0, 0, have
	flush := func() error {
		if from := max(lo, have); from < hi {
			if err := p.readAt(data[from:hi], m.offset+int64(m.headerLen+from), d); err != nil {
				return err
			}
		}
		for i := first; i < len(d.dirs) && d.dirs[i].off+d.dirs[i].stored <= hi; i++ {
			c := &d.dirs[i]
			if xxhash.Sum64(data[c.off:c.off+c.stored]) != c.sum {
				return fmt.Errorf("%w: column %d checksum mismatch in block of part %s at %d", errCorrupt, i, p.name, m.offset)
			}
		}
		return nil
	}
	for i := range d.dirs {
		c := &d.dirs[i]
		if d.spans[i] < 0 {
			continue
		}
		// With nothing read yet (a kept header), the first read starts at
		// the first column needed.
		if c.off-hi > maxReadGap || hi == 0 {
			if err := flush(); err != nil {
				return err
			}
			first, lo, hi = i, c.off, c.off
		}
		hi = max(hi, c.off+c.stored)
	}
	return flush()
}

// readAt preads b at off and counts the bytes in d.bytesRead.
func (p *part) readAt(b []byte, off int64, d *decodedBlock) error {
	if _, err := p.f.ReadAt(b, off); err != nil {
		return fmt.Errorf("read block of part %s at %d: %w", p.name, off, err)
	}
	d.bytesRead += int64(len(b))
	return nil
}

func slicesGrow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}
