package store

import (
	"encoding/binary"
	"math"
	"math/bits"
	"strconv"
	"unsafe"
)

// This file holds the decimal column encoding (encDecimal, FORMAT.md
// "Column data"): a column whose values are all plain decimals with the
// same number of fraction digits (latencies such as 12.345, sizes,
// counters) is stored as integers, each value's digits without the dot,
// minus the smallest, bit-packed. It is smaller than the text and needs no
// decompression, and a numeric filter compares numbers instead of parsing
// text per row.

// maxDecimalDigits is the most digits a decimal value may have: every
// such integer, and every power of ten up to it, is exact in a float64,
// so one division gives exactly the float64 that strconv.ParseFloat gives
// for the text.
const maxDecimalDigits = 15

// maxDecimalWidth is the most bits a packed value may take: the spread of
// two values of at most maxDecimalDigits digits is below 2^51.
const maxDecimalWidth = 51

// decimalPow10 holds the powers of ten a mantissa is divided by.
var decimalPow10 = [maxDecimalDigits + 1]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// maxMantissa bounds the absolute value of a decoded mantissa.
const maxMantissa = 999_999_999_999_999

// parseDecimal parses v when it is a canonical decimal: an optional '-',
// an integer part without leading zeros, and optionally a dot and at
// least one fraction digit, at most maxDecimalDigits digits in all, and
// not a negative zero. Canonical means that formatDecimal gives v back
// from (m, scale), byte for byte.
func parseDecimal(v string) (m int64, scale int, ok bool) {
	i := 0
	neg := len(v) > 0 && v[0] == '-'
	if neg {
		i = 1
	}
	start, digits, dot := i, 0, -1
	for ; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= '0' && c <= '9':
			m = m*10 + int64(c-'0')
			digits++
			if digits > maxDecimalDigits {
				return 0, 0, false
			}
		case c == '.' && dot < 0:
			dot = i
		default:
			return 0, 0, false
		}
	}
	intDigits := digits
	if dot >= 0 {
		intDigits = dot - start
		scale = len(v) - dot - 1
		if scale == 0 {
			return 0, 0, false // "1."
		}
	}
	if intDigits == 0 || intDigits > 1 && v[start] == '0' {
		return 0, 0, false // ".5", "01"
	}
	if neg {
		if m == 0 {
			return 0, 0, false // "-0", "-0.00"
		}
		m = -m
	}
	return m, scale, true
}

// formatDecimal appends m with scale fraction digits, as parseDecimal
// read it.
func formatDecimal(dst []byte, m int64, scale int) []byte {
	if scale == 0 {
		return strconv.AppendInt(dst, m, 10)
	}
	if m < 0 {
		dst = append(dst, '-')
		m = -m
	}
	var buf [maxDecimalDigits + 2]byte
	digits := strconv.AppendInt(buf[:0], m, 10)
	for len(digits) <= scale {
		// Pad so that the integer part has its one zero: 5 at scale 3 is 0.005.
		digits = append(digits, 0)
		copy(digits[1:], digits)
		digits[0] = '0'
	}
	cut := len(digits) - scale
	dst = append(dst, digits[:cut]...)
	dst = append(dst, '.')
	return append(dst, digits[cut:]...)
}

// appendDecimals encodes vals as encDecimal when every one is a canonical
// decimal of one scale; ok is false, with dst unchanged, otherwise.
//
// Values of k rows: byte scale, varint base (the smallest mantissa), byte
// width, then each mantissa minus base in width bits, least significant
// bit first, packed into ceil(k*width/8) bytes. mantissas is scratch.
func appendDecimals(dst []byte, vals []string, mantissas *[]int64) (_ []byte, ok bool) {
	if len(vals) == 0 {
		return dst, false
	}
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	scale := -1
	ms := (*mantissas)[:0]
	for _, v := range vals {
		m, s, ok := parseDecimal(v)
		if !ok || scale >= 0 && s != scale {
			*mantissas = ms
			return dst, false
		}
		scale = s
		lo, hi = min(lo, m), max(hi, m)
		ms = append(ms, m)
	}
	*mantissas = ms
	width := bits.Len64(uint64(hi - lo))
	dst = append(dst, byte(scale))
	dst = binary.AppendVarint(dst, lo)
	dst = append(dst, byte(width))
	return appendPacked(dst, ms, lo, width), true
}

// decimals is a decoded encDecimal column: k packed mantissas.
type decimals struct {
	scale  int
	base   int64
	width  uint
	packed string
	k      int
}

// readDecimals decodes the header of k encDecimal values and checks that
// every value is in range.
func readDecimals(r *reader, k int) decimals {
	d := decimals{k: k}
	d.scale = int(r.byte())
	d.base = r.varint()
	d.width = uint(r.byte())
	if r.err != nil {
		return d
	}
	// A canonical value has at most maxDecimalDigits digits, the zero
	// before the dot included.
	if d.scale >= maxDecimalDigits || d.width > maxDecimalWidth || d.base < -maxMantissa || d.base > maxMantissa {
		r.fail("decimal column header out of range")
		return d
	}
	d.packed = r.bytes((k*int(d.width) + 7) / 8)
	if r.err != nil {
		return d
	}
	for i := range k {
		if m := d.at(i); m < -maxMantissa || m > maxMantissa {
			r.fail("decimal value out of range")
			return d
		}
	}
	return d
}

// at is mantissa i.
func (d *decimals) at(i int) int64 {
	if d.width == 0 {
		return d.base
	}
	bit := uint(i) * d.width
	o := int(bit / 8)
	var x uint64
	if o+8 <= len(d.packed) {
		s := d.packed[o : o+8]
		x = uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
	} else {
		// The last values: fewer than eight bytes are left.
		var b [8]byte
		copy(b[:], d.packed[o:])
		x = binary.LittleEndian.Uint64(b[:])
	}
	return d.base + int64(x>>(bit%8)&(1<<d.width-1))
}

// float is value i as a float64, exactly as strconv.ParseFloat reads its
// text.
func (d *decimals) float(i int) float64 {
	return float64(d.at(i)) / decimalPow10[d.scale]
}

// appendFloats appends every value as a float64 (see float).
func (d *decimals) appendFloats(dst []float64) []float64 {
	for i := range d.k {
		dst = append(dst, d.float(i))
	}
	return dst
}

// appendTexts appends every value's text; the texts share one
// allocation, so that building a block's rows costs one, not one per row.
func (d *decimals) appendTexts(dst []string) []string {
	buf := make([]byte, 0, d.k*(maxDecimalDigits/2+d.scale+2))
	ends := make([]int, d.k)
	for i := range d.k {
		buf = formatDecimal(buf, d.at(i), d.scale)
		ends[i] = len(buf)
	}
	all := unsafe.String(unsafe.SliceData(buf), len(buf))
	start := 0
	for _, end := range ends {
		dst = append(dst, all[start:end])
		start = end
	}
	return dst
}
