package store

import (
	"fmt"
	"slices"
	"unsafe"

	"github.com/cespare/xxhash/v2"
	"github.com/klauspost/compress/zstd"
)

// This file holds what lets a search read less of a block: the parsed
// header kept after a block's first read, so that later reads fetch only
// the columns they decode, and timestamps read only when the search needs
// them.

// blockHeader is a block's parsed header: its record count and column
// directory. The block's index chunk keeps it once read (indexChunk.headers,
// accounted in the index cache with the chunk):
// 40 bytes per column of the block, next to the kilobytes of its bloom
// filter that the index already holds in memory. It is checked against
// the index entry's checksum when read; a read that finds it kept fetches
// neither it nor its checksum again, while every column it fetches is
// still checked.
type blockHeader struct {
	rows   int
	rawLen int
	dirs   []colDir
}

// lazyTimes is where loadTimes finds the timestamps of the block a search
// read without them: the block's part and index entry, and the column
// data the read already holds (data[:have]), which often includes the
// timestamps, the first column.
type lazyTimes struct {
	p    *part
	m    *blockMeta
	dec  *zstd.Decoder
	data []byte // the block's column data as read, aliasing the read's buffer
	have int    // how many bytes of data were read
	buf  []byte // scratch for the stored timestamps, when not in data
	raw  []byte // scratch for the decompressed timestamps
}

// loadTimes parses the block's timestamps into d.times, once, reading
// and checking the column first when the block was read without it. It
// must be called before the buffer of the block's read is reused.
func (d *decodedBlock) loadTimes() error {
	if d.timesLoaded {
		return nil
	}
	if d.spans[0] >= 0 {
		return d.parseTimes()
	}
	lt := &d.lazy
	c := d.dirs[0]
	stored := lt.data[c.off : c.off+c.stored : c.off+c.stored]
	switch {
	case d.timesRead:
		// Read and checked with the block's other columns.
	case c.off+c.stored > lt.have:
		lt.buf = slicesGrow(lt.buf, c.stored)
		stored = lt.buf
		off := lt.m.offset + int64(lt.m.headerLen+c.off)
		if err := lt.p.readAt(stored, off, d); err != nil {
			return err
		}
		fallthrough
	default:
		if xxhash.Sum64(stored) != c.sum {
			return fmt.Errorf("%w: column 0 checksum mismatch in block of part %s at %d", errCorrupt, lt.p.name, lt.m.offset)
		}
	}
	raw := stored
	if c.comp == compZstd {
		var err error
		lt.raw, err = lt.dec.DecodeAll(stored, lt.raw[:0])
		if err != nil {
			return fmt.Errorf("%w: decompress column 0 of block of part %s at %d: %v", errCorrupt, lt.p.name, lt.m.offset, err)
		}
		raw = lt.raw
	}
	if len(raw) != c.raw {
		return fmt.Errorf("%w: column 0 of block of part %s at %d has %d bytes, directory says %d", errCorrupt, lt.p.name, lt.m.offset, len(raw), c.raw)
	}
	d.timesSrc = unsafe.String(unsafe.SliceData(raw), len(raw))
	return d.parseTimes()
}

// header returns the parsed header of block bi of chunk c, reading,
// checking and keeping it when no read has kept it yet. d is scratch.
func (p *part) header(c *indexChunk, bi int, d *decodedBlock) (*blockHeader, error) {
	if h := c.headers[bi].Load(); h != nil {
		return h, nil
	}
	m := &c.metas[bi]
	d.bytesRead = 0
	hdr := make([]byte, m.headerLen)
	if err := p.readAt(hdr, m.offset, d); err != nil {
		return nil, err
	}
	if err := p.checkHeader(m, hdr, d, map[string]bool{}); err != nil {
		return nil, err
	}
	return p.keepHeader(c, bi, d), nil
}

// keepHeader keeps the header just decoded into d as that of block bi of
// chunk c, unless a concurrent read kept it first, and returns the kept
// one.
func (p *part) keepHeader(c *indexChunk, bi int, d *decodedBlock) *blockHeader {
	h := &blockHeader{rows: d.rows, rawLen: d.rawLen, dirs: slices.Clone(d.dirs)}
	if !c.headers[bi].CompareAndSwap(nil, h) {
		return c.headers[bi].Load()
	}
	n := int64(unsafe.Sizeof(*h)) + int64(len(h.dirs))*int64(unsafe.Sizeof(colDir{}))
	c.headerBytes.Add(n)
	p.io.index.grow(c.key, c, n)
	return h
}
