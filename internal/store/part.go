package store

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"sync/atomic"

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
		blocks: metas, minTime: math.MaxInt64, maxTime: math.MinInt64}
	for i := range metas {
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

// readBlock reads block m into buf, checks its checksum and decodes into
// d the fields in need (all when nil; see decodeBlock), decompressing only
// their columns. buf is returned for reuse; d's strings do not alias it.
func (p *part) readBlock(m *blockMeta, dec *zstd.Decoder, buf []byte, d *decodedBlock, need map[string]bool) ([]byte, error) {
	buf = slicesGrow(buf, int(m.length))
	if _, err := p.f.ReadAt(buf, m.offset); err != nil {
		return buf, fmt.Errorf("read block of part %s at %d: %w", p.name, m.offset, err)
	}
	// The whole block is read and checked even when a projection decodes
	// a few columns: reading is cheap next to decompressing, and a flipped
	// byte anywhere is reported by every read of the block.
	if xxhash.Sum64(buf) != m.checksum {
		return buf, fmt.Errorf("%w: block checksum mismatch in part %s at %d", errCorrupt, p.name, m.offset)
	}
	if err := decodeBlock(buf, m.fields, dec, d, need); err != nil {
		return buf, fmt.Errorf("decode block of part %s at %d: %w", p.name, m.offset, err)
	}
	if d.rawLen != m.rawLen {
		return buf, fmt.Errorf("%w: block of part %s at %d has %d raw bytes, index says %d", errCorrupt, p.name, m.offset, d.rawLen, m.rawLen)
	}
	if d.rows != m.count {
		return buf, fmt.Errorf("%w: block of part %s at %d has %d records, index says %d", errCorrupt, p.name, m.offset, d.rows, m.count)
	}
	return buf, nil
}

func slicesGrow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}
