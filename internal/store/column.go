package store

import (
	"encoding/binary"
)

// Column encodings (FORMAT.md, "Column data"). A block picks one per column,
// from what the column's values look like in that block.
const (
	encDelta byte = 0 // timestamps: zig-zag varint deltas
	encRaw   byte = 1 // strings: all lengths, then all bytes
	encConst byte = 2 // strings: every value is the same, stored once
	encDict  byte = 3 // strings: distinct values once, then a one-byte code per value
	// decimals of one scale, as bit-packed integers (column_decimal.go)
	encDecimal byte = 4
	// timestamps that are all whole multiples of 10^e ns (e 1..9: whole
	// seconds, milliseconds, …): e, then zig-zag varint deltas in that unit
	encDeltaScaled byte = 5
	// strings of lowercase hex digits of one even length, as the bytes
	// they spell (column_hex.go; format version 5 and later)
	encHex byte = 6
	// a dictionary's codes in the fewest bits that hold them, stored
	// uncompressed (column_packed.go; format version 6)
	encPackedDict byte = 7
	// timestamps: e, the first time, then every later delta in a fixed
	// number of bits, stored uncompressed (column_packed.go; format
	// version 6)
	encPackedDelta byte = 8

	// encFull flags a field column's encoding byte in the directory: every
	// row of the block has a non-empty value, which a filter on the
	// field's presence alone can be told without reading the column.
	encFull byte = 0x80
)

// Column compressions.
const (
	compNone byte = 0
	compZstd byte = 1
)

// maxDictValues is the most distinct values a dictionary column holds: its
// codes are one byte.
const maxDictValues = 255

// valueScratch is what appendValues reuses from one column to the next.
type valueScratch struct {
	seen      map[string]byte // a dictionary's codes
	codes     []byte          // each value's code, as appendValues finds them
	mantissas []int64         // a decimal column's values
	dictLen   int             // the distinct values of the last encDict column
}

// appendValues encodes vals with the cheapest string encoding for them and
// returns the encoding used. sc is scratch.
func appendValues(dst []byte, vals []string, sc *valueScratch) ([]byte, byte) {
	if sc.seen == nil {
		sc.seen = make(map[string]byte)
	}
	seen := sc.seen
	clear(seen)
	var dict []string
	// Each value's code is looked up once, and a value equal to the one
	// before (runs of a stream's level, host, …) not at all.
	codes := sc.codes[:0]
	prev, code := "", byte(0)
	for i, v := range vals {
		if i > 0 && v == prev {
			codes = append(codes, code)
			continue
		}
		c, ok := seen[v]
		if !ok {
			// A dictionary of more than half as many values as rows
			// is not used (below), and only grows from here on.
			if len(dict) == maxDictValues || len(dict) >= 2 && 2*len(dict) > len(vals) {
				dict = nil
				break
			}
			c = byte(len(dict))
			seen[v] = c
			dict = append(dict, v)
		}
		prev, code = v, c
		codes = append(codes, c)
	}
	sc.codes = codes
	switch {
	case len(vals) > 0 && len(dict) == 1:
		return appendStr(dst, dict[0]), encConst
	// A dictionary pays only when values repeat; a column of distinct
	// values (ids, messages) would carry a code per row on top of them.
	case dict != nil && 2*len(dict) <= len(vals):
		dst = binary.AppendUvarint(dst, uint64(len(dict)))
		for _, v := range dict {
			dst = appendStr(dst, v)
		}
		dst = append(dst, codes...)
		sc.dictLen = len(dict)
		return dst, encDict
	}
	if dst, ok := appendDecimals(dst, vals, &sc.mantissas); ok {
		return dst, encDecimal
	}
	if dst, ok := appendHexValues(dst, vals); ok {
		return dst, encHex
	}
	for _, v := range vals {
		dst = binary.AppendUvarint(dst, uint64(len(v)))
	}
	for _, v := range vals {
		dst = append(dst, v...)
	}
	return dst, encRaw
}

// readValues decodes n values of encoding enc into c: for encRaw one value
// per row, for encConst the one value, for encDict the distinct values
// and a code per row. The strings alias r's source, but for encHex, which
// is decoded as encRaw, into texts of its own.
func readValues(r *reader, enc byte, n int, c *decodedCol, lens *[]int) {
	readValuesSpelling(r, enc, n, c, lens, 0, n)
}

// readValuesSpelling is readValues for a reader that will look at the
// values [lo, hi) alone: an encHex column spells only those as text
// (see readHexValues).
func readValuesSpelling(r *reader, enc byte, n int, c *decodedCol, lens *[]int, lo, hi int) {
	c.enc = enc
	c.values = c.values[:0]
	c.codes = ""
	c.data = ""
	c.hex, c.hexWidth = "", 0
	switch enc {
	case encConst:
		c.values = append(c.values, r.str())
	case encDict:
		k := r.count(min(r.remaining(), maxDictValues))
		if r.err == nil && k == 0 && n > 0 {
			r.fail("empty dictionary")
		}
		for i := 0; i < k && r.err == nil; i++ {
			c.values = append(c.values, r.str())
		}
		c.codes = r.bytes(n)
		for i := 0; i < len(c.codes) && r.err == nil; i++ {
			if int(c.codes[i]) >= k {
				r.fail("dictionary code out of range")
			}
		}
	case encPackedDict:
		// Decoded as encDict, its codes unpacked to a byte each.
		c.enc = encDict
		k := r.count(min(r.remaining(), maxDictValues))
		if r.err == nil && k == 0 && n > 0 {
			r.fail("empty dictionary")
		}
		for i := 0; i < k && r.err == nil; i++ {
			c.values = append(c.values, r.str())
		}
		if r.err == nil {
			readPackedCodes(r, n, k, c)
		}
	case encRaw:
		c.values, c.data = readRawValues(r, n, c.values, lens)
	case encDecimal:
		c.dec = readDecimals(r, n)
	case encHex:
		readHexValues(r, n, c, lo, hi) // decoded as the raw values they spell
	default:
		r.fail("unknown column encoding")
	}
}

// readRawValues appends n encRaw values to dst. They are back-to-back
// substrings of data, which is all their bytes (see Values).
func readRawValues(r *reader, n int, dst []string, lens *[]int) (_ []string, data string) {
	if n > r.remaining() {
		r.fail("column longer than its data")
		return dst, ""
	}
	*lens = (*lens)[:0]
	total := 0
	for i := 0; i < n && r.err == nil; i++ {
		// Most values are shorter than 128 bytes: a one-byte length needs
		// none of uvarint's checks.
		if r.off < len(r.src) && r.src[r.off] < 0x80 {
			*lens = append(*lens, int(r.src[r.off]))
			total += int(r.src[r.off])
			r.off++
			continue
		}
		l := r.count(r.remaining())
		*lens = append(*lens, l)
		total += l
	}
	data = r.bytes(total)
	if r.err != nil {
		return dst, ""
	}
	off := 0
	for _, l := range *lens {
		dst = append(dst, data[off:off+l])
		off += l
	}
	return dst, data
}

// value is the next present row's value; rows are visited in order.
func (c *decodedCol) value() string {
	i := c.next
	c.next++
	switch c.enc {
	case encConst:
		return c.values[0]
	case encDict:
		return c.values[c.codes[i]]
	case encDecimal:
		if len(c.values) < c.dec.k {
			c.values = c.dec.appendTexts(c.values[:0])
		}
	}
	return c.values[i]
}

func (r *reader) byte() byte {
	b := r.bytes(1)
	if r.err != nil {
		return 0
	}
	return b[0]
}

func popcount(bitmap string) int {
	n := 0
	for i := 0; i < len(bitmap); i++ {
		for b := bitmap[i]; b != 0; b &= b - 1 {
			n++
		}
	}
	return n
}
