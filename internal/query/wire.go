package query

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// The partial answers an indexer sends a querier (see partial.go) are
// binary: unsigned varints for lengths and counts, zig-zag varints for
// times, 8 little-endian bytes for floats, strings as length and bytes.

// errPartialCorrupt is the error of every decoder of partial answers.
var errPartialCorrupt = errors.New("query: corrupt partial answer")

func appendString(dst []byte, s string) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(s))), s...)
}

func appendFloat(dst []byte, f float64) []byte {
	return binary.LittleEndian.AppendUint64(dst, math.Float64bits(f))
}

// wireReader decodes what the append functions wrote. The first problem
// sticks: later reads return zero values, and err says where it was.
type wireReader struct {
	b   []byte
	off int
	err error
}

func (r *wireReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s at byte %d", errPartialCorrupt, what, r.off)
	}
}

func (r *wireReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		r.fail("bad varint")
		return 0
	}
	r.off += n
	return v
}

func (r *wireReader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b[r.off:])
	if n <= 0 {
		r.fail("bad varint")
		return 0
	}
	r.off += n
	return v
}

// count reads a count of items that each take at least minBytes bytes,
// refusing one the rest of the input cannot hold: hostile input cannot
// make a decoder allocate more than its length allows.
func (r *wireReader) count(minBytes int) int {
	n := r.uvarint()
	if r.err == nil && n > uint64(r.left()/max(minBytes, 1)) {
		r.fail("count larger than the input")
		return 0
	}
	return int(n)
}

func (r *wireReader) float() float64 {
	if r.err != nil {
		return 0
	}
	if r.left() < 8 {
		r.fail("short float")
		return 0
	}
	f := math.Float64frombits(binary.LittleEndian.Uint64(r.b[r.off:]))
	r.off += 8
	return f
}

func (r *wireReader) bytes() []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(r.left()) {
		r.fail("string longer than the input")
		return nil
	}
	b := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return b
}

func (r *wireReader) str() string { return string(r.bytes()) }

func (r *wireReader) left() int { return len(r.b) - r.off }

// end fails unless every byte was read.
func (r *wireReader) end() error {
	if r.err == nil && r.left() != 0 {
		r.fail("trailing bytes")
	}
	return r.err
}

func appendUvarint(dst []byte, v uint64) []byte { return binary.AppendUvarint(dst, v) }
