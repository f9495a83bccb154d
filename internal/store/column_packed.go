package store

import (
	"encoding/binary"
	"math"
	"math/bits"
	"unsafe"
)

// This file holds the packed column encodings (format version 6), which
// a writer stores uncompressed: encPackedDelta for the timestamps and
// encPackedDict for a dictionary's codes, each value in a fixed number
// of bits. A small block's column compressed by zstd pays, when read, for
// building the frame's entropy tables, which on blocks of a few hundred
// to a few thousand rows cost more than decoding the values; packed
// values take about as many bytes as such a frame when the values are
// few distinct codes or deltas of one magnitude, and unpack with no
// tables at all.

// maxPackedWidth is the widest packed value: unpacking keeps at most 7
// bits in hand besides the value's, within 64.
const maxPackedWidth = 56

// packedBytes is the bytes n values of w bits take.
func packedBytes(n, w int) int { return (n*w + 7) / 8 }

// appendPacked appends v − base of each of vals in w bits (which must
// hold it), least significant bit first, value j at bit j·w.
func appendPacked[T ~uint8 | ~int64 | ~uint64](dst []byte, vals []T, base T, w int) []byte {
	// nbits < 8 before each value and w ≤ maxPackedWidth (or a decimal's
	// maxDecimalWidth): acc never holds more than 63 bits.
	var acc uint64
	nbits := 0
	for _, v := range vals {
		acc |= uint64(v-base) << nbits
		nbits += w
		for nbits >= 8 {
			dst = append(dst, byte(acc))
			acc >>= 8
			nbits -= 8
		}
	}
	if nbits > 0 {
		dst = append(dst, byte(acc))
	}
	return dst
}

// packedAt is value i of the values of w bits packed in src, given
// that src holds 8 bytes from the value's first byte on: one unaligned
// load, a shift of at most 7 and a mask (w ≤ maxPackedWidth).
func packedAt(src []byte, i, w int, mask uint64) uint64 {
	bit := i * w
	return binary.LittleEndian.Uint64(src[bit>>3:]) >> (bit & 7) & mask
}

// packedTail is packedAt for the last values, whose 8 bytes would pass
// the end of src.
func packedTail(src []byte, i, w int, mask uint64) uint64 {
	bit := i * w
	var x uint64
	for j, b := range src[bit>>3:] {
		x |= uint64(b) << (8 * j)
	}
	return x >> (bit & 7) & mask
}

// packedFast is how many of n values of w bits in src packedAt can read.
func packedFast(src []byte, n, w int) int {
	if len(src) < 8 {
		return 0
	}
	// Value i is fast when its first byte, (i·w)/8, is at most len-8.
	if w == 0 {
		return n
	}
	return min(n, ((len(src)-8)*8)/w+1)
}

// appendPackedDelta appends times (a block's, in row order) as an
// encPackedDelta column in units of 10^exp ns (unit): exp, the first time
// and the smallest delta between consecutive rows as zig-zag varints, the
// width w, then each later row's delta less the smallest in w bits. ok is
// false when a delta needs more than maxPackedWidth bits.
func appendPackedDelta(dst []byte, times []int64, exp int, unit int64, scratch *[]uint64) (_ []byte, ok bool) {
	dst = append(dst, byte(exp))
	if len(times) == 0 {
		return dst, true
	}
	first := times[0] / unit
	dst = binary.AppendVarint(dst, first)
	if len(times) == 1 {
		return dst, true
	}
	minD, maxD := int64(math.MaxInt64), int64(math.MinInt64)
	prev := first
	for _, t := range times[1:] {
		d := t/unit - prev
		prev = t / unit
		minD, maxD = min(minD, d), max(maxD, d)
	}
	span := uint64(maxD) - uint64(minD) // the deltas' spread, mod 2^64
	if bits.Len64(span) > maxPackedWidth {
		return dst, false
	}
	w := bits.Len64(span)
	dst = binary.AppendVarint(dst, minD)
	dst = append(dst, byte(w))
	vals := (*scratch)[:0]
	prev = first
	for _, t := range times[1:] {
		vals = append(vals, uint64(t/unit-prev-minD))
		prev = t / unit
	}
	*scratch = vals
	return appendPacked(dst, vals, 0, w), true
}

// decodePackedTimes reads an encPackedDelta column of n rows (after its
// unit byte) into d.times, in ns (unit).
func (d *decodedBlock) decodePackedTimes(r *reader, n int, unit int64) {
	d.times = d.times[:0]
	if n == 0 || r.err != nil {
		return
	}
	lim := math.MaxInt64 / unit
	t := r.varint()
	if r.err == nil && (t > lim || t < -lim) {
		r.fail("time out of range")
	}
	if r.err != nil {
		return
	}
	d.times = append(d.times[:0], t*unit)
	if n == 1 {
		return
	}
	minD := r.varint()
	w := int(r.byte())
	if r.err == nil && w > maxPackedWidth {
		r.fail("packed width out of range")
	}
	src := r.bytes(packedBytes(n-1, w))
	if r.err != nil {
		return
	}
	if cap(d.times) < n {
		d.times = append(make([]int64, 0, n), d.times...)
	}
	d.times = d.times[:n]
	b := unsafe.Slice(unsafe.StringData(src), len(src))
	mask := uint64(1)<<w - 1
	if packedFast(b, n-1, w) < n-1 {
		// The last values' 8-byte loads would pass the column's end: a
		// copy with 8 bytes more lets every value take one load.
		d.timesPad = append(append(d.timesPad[:0], b...), make([]byte, 8)...)
		b = d.timesPad
	}
	times := d.times[1:n]
	for i := range times {
		v := packedAt(b, i, w, mask)
		// The delta's sum wraps like the writer's difference did; a
		// time outside the range of int64 ns is damage.
		t += int64(v) + minD
		if t > lim || t < -lim {
			d.times = d.times[:1+i]
			r.fail("time out of range")
			return
		}
		times[i] = t * unit
	}
	d.times = d.times[:n]
}

// packDictCodes returns, for a dictionary column just appended to raw by
// appendValues (its k codes last), the same column as encPackedDict
// appended to dst: every byte but the codes, then the codes in
// bits.Len(d-1) bits each, d the dictionary's size.
func packDictCodes(dst, raw []byte, k, d int) []byte {
	head, codes := raw[:len(raw)-k], raw[len(raw)-k:]
	dst = append(dst, head...)
	return appendPacked(dst, codes, 0, bits.Len(uint(d-1)))
}

// readPackedCodes reads the k packed codes of a dictionary of d values
// into c.codes, unpacked to a byte each into c.codeBuf.
func readPackedCodes(r *reader, k, d int, c *decodedCol) {
	w := bits.Len(uint(d - 1))
	src := r.bytes(packedBytes(k, w))
	if r.err != nil {
		return
	}
	c.codeBuf = slicesGrow(c.codeBuf, k)[:k]
	b := unsafe.Slice(unsafe.StringData(src), len(src))
	mask := uint64(1)<<w - 1
	fast := packedFast(b, k, w)
	codes := c.codeBuf
	switch w {
	case 1, 2, 4:
		// Whole bytes of codes unpack by a table: 8, 4 or 2 codes a byte.
		unpackSmall(codes, b, w)
	default:
		for i := range fast {
			codes[i] = byte(packedAt(b, i, w, mask))
		}
		for i := fast; i < k; i++ {
			codes[i] = byte(packedTail(b, i, w, mask))
		}
	}
	// A dictionary of d values whose codes need w bits: only codes of
	// d or more, which a power of two cannot have, are out of range.
	if d&(d-1) != 0 {
		for _, v := range codes {
			if int(v) >= d {
				r.fail("dictionary code out of range")
				return
			}
		}
	}
	c.codes = unsafe.String(unsafe.SliceData(codes), k)
}

// unpackTables holds, for widths 1, 2 and 4 (indexes 0, 1, 2), the codes
// a byte of packed codes holds, a code a byte, least significant first.
var unpackTables = func() (t [3][256]uint64) {
	for k, w := range []uint{1, 2, 4} {
		per, mask := 8/w, uint64(1)<<w-1
		for b := range 256 {
			var v uint64
			for j := range per {
				v |= (uint64(b) >> (j * w) & mask) << (8 * j)
			}
			t[k][b] = v
		}
	}
	return t
}()

// unpackSmall unpacks into codes (len(codes) of them) the codes of w
// bits (1, 2 or 4) packed in src (packedBytes(len(codes), w) bytes): a
// table lookup per byte instead of a shift and mask per code.
func unpackSmall(codes, src []byte, w int) {
	per := 8 / w
	tab := &unpackTables[bits.Len(uint(w))-1]
	n := len(codes)
	full := n / per // bytes whose codes are all wanted
	// Each store writes 8 bytes, of which per are this byte's codes:
	// while 8 bytes remain in codes the store may pass the byte's own.
	i, o := 0, 0
	for ; i < full && o+8 <= n; i, o = i+1, o+per {
		binary.LittleEndian.PutUint64(codes[o:], tab[src[i]])
	}
	for ; o < n; i++ {
		v := tab[src[i]]
		for j := 0; j < per && o < n; j, o = j+1, o+1 {
			codes[o] = byte(v >> (8 * j))
		}
	}
}
