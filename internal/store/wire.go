package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// errCorrupt marks bytes that are not a valid part, block or index.
var errCorrupt = errors.New("store: corrupt data")

func appendStr(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// reader decodes the primitives of the part format from a byte slice, taking
// strings as sub-strings of src so that a whole block costs one allocation.
// The first error sticks; every read after it returns zero values.
type reader struct {
	src string
	off int
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s at byte %d", errCorrupt, what, r.off)
	}
}

func (r *reader) remaining() int { return len(r.src) - r.off }

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	var v uint64
	var shift uint
	for i := 0; ; i++ {
		if r.off >= len(r.src) || i == binary.MaxVarintLen64 {
			r.fail("bad uvarint")
			return 0
		}
		b := r.src[r.off]
		r.off++
		if b < 0x80 {
			if i == binary.MaxVarintLen64-1 && b > 1 {
				r.fail("uvarint overflow")
				return 0
			}
			return v | uint64(b)<<shift
		}
		v |= uint64(b&0x7f) << shift
		shift += 7
	}
}

func (r *reader) varint() int64 {
	u := r.uvarint()
	v := int64(u >> 1)
	if u&1 != 0 {
		v = ^v
	}
	return v
}

// count reads a length that must not exceed limit, the most the remaining
// bytes can describe; it keeps hostile input from forcing huge allocations.
func (r *reader) count(limit int) int {
	n := r.uvarint()
	if r.err != nil {
		return 0
	}
	if limit < 0 || n > uint64(limit) {
		r.fail("count too large")
		return 0
	}
	return int(n)
}

func (r *reader) bytes(n int) string {
	if r.err != nil {
		return ""
	}
	if n < 0 || n > r.remaining() {
		r.fail("data past end")
		return ""
	}
	s := r.src[r.off : r.off+n]
	r.off += n
	return s
}

func (r *reader) str() string {
	return r.bytes(r.count(r.remaining()))
}

func (r *reader) u64() uint64 {
	b := r.bytes(8)
	if r.err != nil {
		return 0
	}
	var v uint64
	for i := 7; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

func (r *reader) f64() float64 { return math.Float64frombits(r.u64()) }

func appendU64(dst []byte, v uint64) []byte { return binary.LittleEndian.AppendUint64(dst, v) }

func appendF64(dst []byte, f float64) []byte { return appendU64(dst, math.Float64bits(f)) }
