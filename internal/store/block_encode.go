package store

import (
	"encoding/binary"
	"math"
	"slices"

	"github.com/cespare/xxhash/v2"
	"github.com/klauspost/compress/zstd"
)

// minCompressBytes is the raw size below which a column is stored
// uncompressed without trying zstd: what a frame could save there is a
// few dozen bytes, and reading it back costs a decoder's table setup per
// frame, which dominated the searches of sparse streams' small blocks.
// On bench/altgen (blocks of about 84 records), 256 instead of 64 took
// 1% more bytes on disk and 24-31% less CPU for a level's count and the
// histogram by level; 1024 took 5% more bytes for about 50% less.
const minCompressBytes = 256

// colDir is one column's entry in a block's column directory.
type colDir struct {
	enc    byte
	comp   byte
	full   bool   // a field column with a non-empty value in every row (encFull)
	stored int    // bytes in the block
	raw    int    // bytes after decompression
	sum    uint64 // xxhash64 of the stored bytes
	off    int    // of the stored bytes, from the start of the column data
}

// blockEncoder is the scratch one part writer encodes its blocks with.
type blockEncoder struct {
	enc  *zstd.Encoder
	raw  []byte // one column before compression
	data []byte // the block's stored column data
	dirs []colDir
	vals valueScratch
	rows []int    // a dense column's rows
	alt  []byte   // a column's packed encoding, to weigh against raw's
	ints []uint64 // scratch for the values packed
	// table is newBloomWith's scratch set of the block's token hashes.
	table []uint64
}

// encode returns the block's stored bytes (header, column directory and
// column data; FORMAT.md "Block") appended to dst, and fills the index
// entry's summary fields, its header length and checksum. Every column is
// compressed and checksummed on its own, so that a read fetches, checks
// and decompresses only the columns it needs.
func (b *blockBuilder) encode(dst []byte, m *blockMeta, e *blockEncoder) []byte {
	n := len(b.times)
	e.data = e.data[:0]
	e.dirs = e.dirs[:0]

	// Times are delta-encoded in row order, so any order decodes, and
	// sorted rows encode small.
	e.raw = e.raw[:0]
	m.minTime, m.maxTime = math.MaxInt64, math.MinInt64
	for _, t := range b.times {
		m.minTime = min(m.minTime, t)
		m.maxTime = max(m.maxTime, t)
	}
	// Times of whole seconds (or milliseconds, …) are stored in that
	// unit: their deltas take a few bytes instead of six or more, which
	// often keeps a small block's column under minCompressBytes.
	exp, unit := timeUnit(b.times)
	tenc := encDelta
	if exp > 0 {
		tenc = encDeltaScaled
		e.raw = append(e.raw, byte(exp))
	}
	prev := int64(0)
	for _, t := range b.times {
		e.raw = binary.AppendVarint(e.raw, t/unit-prev)
		prev = t / unit
	}
	m.spanRows = spanIndex(b.times, m.minTime, m.maxTime)
	alt, ok := appendPackedDelta(e.alt[:0], b.times, exp, unit, &e.ints)
	e.alt = alt
	e.addColumnOr(tenc, encPackedDelta, ok)

	var enc byte
	e.raw, enc = appendValues(e.raw[:0], b.msgs, &e.vals)
	e.addValues(enc, n)

	names := make([]string, 0, len(b.cols))
	for name := range b.cols {
		names = append(names, name)
	}
	slices.Sort(names)
	m.fields = names
	m.ranges = m.ranges[:0]
	for i, name := range names {
		c := b.cols[name]
		e.raw = binary.AppendUvarint(e.raw[:0], uint64(c.n))
		if c.n < n {
			start := len(e.raw)
			e.raw = append(e.raw, make([]byte, (n+7)/8)...)
			bitmap := e.raw[start:]
			rows := c.rowList(e.rows[:0])
			if c.dense {
				// Scratch; a sparse column's own rows, which rowList
				// returns as they are, must not become it: the column
				// is reused by a later block (blockBuilder.spare).
				e.rows = rows
			}
			for _, row := range rows {
				bitmap[row/8] |= 1 << (row % 8)
			}
		}
		full := c.n == n
		if c.same {
			e.raw, enc = appendStr(e.raw, c.first), encConst
			full = full && c.first != ""
		} else {
			e.raw, enc = appendValues(e.raw, c.values, &e.vals)
			full = full && !slices.Contains(c.values, "")
		}
		e.addValues(enc, c.n)
		e.dirs[len(e.dirs)-1].full = full
		if c.numeric {
			m.ranges = append(m.ranges, numRange{field: i, min: c.min, max: c.max})
		}
	}

	dst = e.appendBlock(dst, n, m)
	m.tenant = b.tenant
	m.labels = slices.Clone(b.labels)
	m.key = b.key
	m.count = n
	m.bloom = newBloomWith(b.hashes, &e.table)
	return dst
}

// recompress appends to dst a block of the rows and columns of d, a block
// read whole by part.readBlockRaw, each column compressed anew with e's
// encoder, and sets m's stored layout (length, header, checksum); the rest
// of m, the block's index entry, is the source block's, since the rows are
// the same. A merge thus writes a block it need not combine with others
// without parsing its rows, re-building its columns and tokenizing its
// messages for the bloom filter again, and its output is the block the
// rows would have been encoded to.
func (e *blockEncoder) recompress(dst []byte, m *blockMeta, d *decodedBlock) []byte {
	e.data = e.data[:0]
	e.dirs = e.dirs[:0]
	for i, c := range d.dirs {
		e.addColumnOf(d.raw[d.spans[i]:d.spans[i]+c.raw], c.enc)
		e.dirs[len(e.dirs)-1].full = c.full
	}
	return e.appendBlock(dst, d.rows, m)
}

// appendBlock appends the header of the n rows and the columns e holds,
// then the columns, and sets m's headerLen, checksum, length and rawLen.
func (e *blockEncoder) appendBlock(dst []byte, n int, m *blockMeta) []byte {
	start := len(dst)
	dst = binary.AppendUvarint(dst, uint64(n))
	dst = binary.AppendUvarint(dst, uint64(len(e.dirs)))
	rawLen := 0
	for _, d := range e.dirs {
		enc := d.enc
		if d.full {
			enc |= encFull
		}
		dst = append(dst, enc, d.comp)
		dst = binary.AppendUvarint(dst, uint64(d.stored))
		if d.comp != compNone {
			dst = binary.AppendUvarint(dst, uint64(d.raw))
		}
		dst = appendU64(dst, d.sum)
		rawLen += d.raw
	}
	m.headerLen = len(dst) - start
	m.checksum = xxhash.Sum64(dst[start:])
	dst = append(dst, e.data...)
	m.length = int64(len(dst) - start)
	m.rawLen = rawLen
	return dst
}

// addColumn stores the column in e.raw, compressed when that pays.
func (e *blockEncoder) addColumn(enc byte) { e.addColumnOf(e.raw, enc) }

// addValues adds e.raw, a column of k values that appendValues encoded
// as enc, as it is or, for a dictionary, with its codes packed when that
// is about as small (see addColumnOr).
func (e *blockEncoder) addValues(enc byte, k int) {
	if enc != encDict {
		e.addColumn(enc)
		return
	}
	e.alt = packDictCodes(e.alt[:0], e.raw, k, e.vals.dictLen)
	e.addColumnOr(enc, encPackedDict, true)
}

// packedSlack says how much larger than the column's stored bytes its
// packed encoding may be and still be chosen: by 1/packedSlack. A packed
// column is read without a zstd frame's table setup, most of what small
// blocks' columns cost a search.
const packedSlack = 4

// addColumnOr adds e.raw as a column of encoding enc, or e.alt, the same
// column as altEnc (a packed encoding, stored uncompressed), when ok and
// that takes at most 1/packedSlack more bytes than e.raw stored.
func (e *blockEncoder) addColumnOr(enc, altEnc byte, ok bool) {
	start := len(e.data)
	e.addColumnOf(e.raw, enc)
	stored := len(e.data) - start
	if !ok || len(e.alt) > stored+stored/packedSlack {
		return
	}
	e.data = e.data[:start]
	e.dirs = e.dirs[:len(e.dirs)-1]
	e.addColumnOf(e.alt, altEnc)
}

// addColumnOf appends raw, a column's bytes, to the block's column data,
// compressed when that makes it smaller.
func (e *blockEncoder) addColumnOf(raw []byte, enc byte) {
	start := len(e.data)
	d := colDir{enc: enc, comp: compNone, stored: len(raw), raw: len(raw), off: start}
	packed := enc == encPackedDict || enc == encPackedDelta
	if len(raw) >= minCompressBytes && e.enc != nil && !packed {
		e.data = e.enc.EncodeAll(raw, e.data)
		if len(e.data)-start < len(raw) {
			d.comp, d.stored = compZstd, len(e.data)-start
		} else {
			e.data = e.data[:start]
		}
	}
	if d.comp == compNone {
		e.data = append(e.data, raw...)
	}
	d.sum = xxhash.Sum64(e.data[start:])
	e.dirs = append(e.dirs, d)
}

// maxTimeExp is the largest unit of encDeltaScaled, 10^9 ns (a second).
const maxTimeExp = 9

// timeUnits holds 10^exp for exp 0 to maxTimeExp.
var timeUnits = [maxTimeExp + 1]int64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9}

// timeUnit is the largest 10^exp ns (exp 0 to maxTimeExp) that divides
// every time of times, found in one pass: a time lowers the unit until it
// divides it.
func timeUnit(times []int64) (exp int, unit int64) {
	exp = maxTimeExp
	for _, t := range times {
		for exp > 0 && t%timeUnits[exp] != 0 {
			exp--
		}
		if exp == 0 {
			break
		}
	}
	return exp, timeUnits[exp]
}
