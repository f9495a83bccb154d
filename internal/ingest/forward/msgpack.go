package forward

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// maxDepth bounds nesting of arrays and maps, so that hostile input cannot
// exhaust the stack of the recursive decoders.
const maxDepth = 64

var (
	errShort    = errors.New("msgpack: unexpected end of data")
	errTooDeep  = fmt.Errorf("msgpack: nesting deeper than %d", maxDepth)
	errBadByte  = errors.New("msgpack: invalid type byte 0xc1")
	errTooLarge = errors.New("message larger than max_message_bytes")
)

// kind is the family of a msgpack value.
type kind uint8

const (
	kNil kind = iota
	kBool
	kInt
	kUint
	kFloat
	kStr
	kBin
	kArray
	kMap
	kExt
)

// head is a decoded value header. For str, bin and ext, n is the payload
// length in bytes; for arrays and maps, the number of elements (a map's n
// counts pairs). Scalars carry their value in i, u, f or b.
type head struct {
	kind    kind
	n       int
	i       int64
	u       uint64
	f       float64
	b       bool
	extType int8
	size    int // header bytes, not counting the payload
}

// readHead decodes the header at the start of p. It returns errShort when p
// holds less than the header; it never looks at the payload.
func readHead(p []byte) (head, error) {
	if len(p) == 0 {
		return head{}, errShort
	}
	c := p[0]
	switch {
	case c <= 0x7f:
		return head{kind: kUint, u: uint64(c), i: int64(c), size: 1}, nil
	case c >= 0xe0:
		return head{kind: kInt, i: int64(int8(c)), size: 1}, nil
	case c&0xf0 == 0x80:
		return head{kind: kMap, n: int(c & 0x0f), size: 1}, nil
	case c&0xf0 == 0x90:
		return head{kind: kArray, n: int(c & 0x0f), size: 1}, nil
	case c&0xe0 == 0xa0:
		return head{kind: kStr, n: int(c & 0x1f), size: 1}, nil
	}
	need := func(k int) error {
		if len(p) < 1+k {
			return errShort
		}
		return nil
	}
	var h head
	switch c {
	case 0xc0:
		return head{kind: kNil, size: 1}, nil
	case 0xc1:
		return head{}, errBadByte
	case 0xc2, 0xc3:
		return head{kind: kBool, b: c == 0xc3, size: 1}, nil
	case 0xc4, 0xd9: // bin8, str8
		if err := need(1); err != nil {
			return h, err
		}
		h = head{kind: kBin, n: int(p[1]), size: 2}
		if c == 0xd9 {
			h.kind = kStr
		}
	case 0xc5, 0xda: // bin16, str16
		if err := need(2); err != nil {
			return h, err
		}
		h = head{kind: kBin, n: int(binary.BigEndian.Uint16(p[1:])), size: 3}
		if c == 0xda {
			h.kind = kStr
		}
	case 0xc6, 0xdb: // bin32, str32
		if err := need(4); err != nil {
			return h, err
		}
		h = head{kind: kBin, n: int(binary.BigEndian.Uint32(p[1:])), size: 5}
		if c == 0xdb {
			h.kind = kStr
		}
	case 0xc7: // ext8
		if err := need(2); err != nil {
			return h, err
		}
		h = head{kind: kExt, n: int(p[1]), extType: int8(p[2]), size: 3}
	case 0xc8: // ext16
		if err := need(3); err != nil {
			return h, err
		}
		h = head{kind: kExt, n: int(binary.BigEndian.Uint16(p[1:])), extType: int8(p[3]), size: 4}
	case 0xc9: // ext32
		if err := need(5); err != nil {
			return h, err
		}
		h = head{kind: kExt, n: int(binary.BigEndian.Uint32(p[1:])), extType: int8(p[5]), size: 6}
	case 0xca:
		if err := need(4); err != nil {
			return h, err
		}
		h = head{kind: kFloat, f: float64(math.Float32frombits(binary.BigEndian.Uint32(p[1:]))), size: 5}
	case 0xcb:
		if err := need(8); err != nil {
			return h, err
		}
		h = head{kind: kFloat, f: math.Float64frombits(binary.BigEndian.Uint64(p[1:])), size: 9}
	case 0xcc, 0xcd, 0xce, 0xcf:
		k := 1 << (c - 0xcc)
		if err := need(k); err != nil {
			return h, err
		}
		h = head{kind: kUint, u: beUint(p[1 : 1+k]), size: 1 + k}
		if h.u <= math.MaxInt64 {
			h.i = int64(h.u)
		}
	case 0xd0, 0xd1, 0xd2, 0xd3:
		k := 1 << (c - 0xd0)
		if err := need(k); err != nil {
			return h, err
		}
		u := beUint(p[1 : 1+k])
		shift := 64 - 8*k
		h = head{kind: kInt, i: int64(u<<shift) >> shift, size: 1 + k}
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8: // fixext 1, 2, 4, 8, 16
		if err := need(1); err != nil {
			return h, err
		}
		h = head{kind: kExt, n: 1 << (c - 0xd4), extType: int8(p[1]), size: 2}
	case 0xdc, 0xde: // array16, map16
		if err := need(2); err != nil {
			return h, err
		}
		h = head{kind: kArray, n: int(binary.BigEndian.Uint16(p[1:])), size: 3}
		if c == 0xde {
			h.kind = kMap
		}
	case 0xdd, 0xdf: // array32, map32
		if err := need(4); err != nil {
			return h, err
		}
		h = head{kind: kArray, n: int(binary.BigEndian.Uint32(p[1:])), size: 5}
		if c == 0xdf {
			h.kind = kMap
		}
	}
	return h, nil
}

func beUint(b []byte) uint64 {
	var u uint64
	for _, x := range b {
		u = u<<8 | uint64(x)
	}
	return u
}

// payload reports whether h is followed by n raw bytes (str, bin, ext).
func (h head) payload() int {
	switch h.kind {
	case kStr, kBin, kExt:
		return h.n
	}
	return 0
}

// items is the number of values a container header opens.
func (h head) items() int {
	switch h.kind {
	case kArray:
		return h.n
	case kMap:
		return 2 * h.n
	}
	return 0
}

// scanner finds where one complete msgpack value ends in a buffer that grows
// as bytes arrive. It resumes where it stopped, so a large message arriving
// in many reads is scanned once, not once per read.
type scanner struct {
	pos     int
	open    []int // values still missing in each open container
	started bool
	limit   int // a value may not end past this offset
}

// scan continues over p (the same buffer as before, possibly longer). It
// returns the value's length once complete, 0 while more bytes are needed,
// and an error for invalid or oversized input.
func (s *scanner) scan(p []byte) (int, error) {
	for {
		if s.started && len(s.open) == 0 {
			return s.pos, nil
		}
		h, err := readHead(p[s.pos:])
		if err == errShort {
			return 0, s.checkLimit(s.pos + 1)
		}
		if err != nil {
			return 0, err
		}
		end := s.pos + h.size + h.payload()
		if err := s.checkLimit(end); err != nil {
			return 0, err
		}
		if end > len(p) {
			return 0, nil
		}
		s.pos = end
		s.started = true
		if n := h.items(); n > 0 {
			if len(s.open) >= maxDepth {
				return 0, errTooDeep
			}
			// Each value takes at least one byte: a count beyond the limit
			// can never complete.
			if err := s.checkLimit(s.pos + n); err != nil {
				return 0, err
			}
			s.open = append(s.open, n)
			continue
		}
		for len(s.open) > 0 {
			top := len(s.open) - 1
			s.open[top]--
			if s.open[top] > 0 {
				break
			}
			s.open = s.open[:top]
		}
	}
}

func (s *scanner) checkLimit(end int) error {
	if s.limit > 0 && end > s.limit {
		return errTooLarge
	}
	return nil
}

func (s *scanner) reset(limit int) {
	s.pos, s.open, s.started, s.limit = 0, s.open[:0], false, limit
}
