package store

import (
	"encoding/binary"
	"encoding/hex"
	"unsafe"
)

// This file holds the hex column encoding (encHex, FORMAT.md "Column
// data"): a column whose values are all lowercase hexadecimal of one even
// length (trace and span ids, request ids, content hashes) is stored as
// the bytes the digits spell, half the size of the text. zstd gets random
// digits to about the same size, but at the cost of compressing twice the
// bytes at every flush and merge; ids that are not random still compress
// as bytes.

// maxHexBytes bounds the bytes of one hex value (a 512-digit value).
const maxHexBytes = 256

// appendHexValues encodes vals as encHex when every one is lowercase hex
// digits of the same even length, 2 to 2·maxHexBytes; ok is false, with dst
// unchanged, otherwise.
//
// Values of k rows: uvarint w, the bytes of each value, then k·w bytes,
// value j at byte j·w.
func appendHexValues(dst []byte, vals []string) (_ []byte, ok bool) {
	if len(vals) == 0 {
		return dst, false
	}
	l := len(vals[0])
	if l == 0 || l%2 != 0 || l > 2*maxHexBytes {
		return dst, false
	}
	for _, v := range vals {
		if len(v) != l || !isLowerHex(v) {
			return dst, false
		}
	}
	w := l / 2
	dst = binary.AppendUvarint(dst, uint64(w))
	start := len(dst)
	dst = append(dst, make([]byte, len(vals)*w)...)
	for j, v := range vals {
		// Cannot fail: every byte is a lowercase hex digit.
		_, _ = hex.Decode(dst[start+j*w:start+(j+1)*w], unsafe.Slice(unsafe.StringData(v), len(v)))
	}
	return dst, true
}

// isLowerHex reports whether every byte of v is one of 0-9a-f: the digits
// hex.EncodeToString writes, so that the text comes back byte for byte.
func isLowerHex(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// readHexValues decodes k encHex values into c as the raw values they
// spell: their texts, back to back in one allocation (c.data), one per
// row, so that every reader of raw values reads them as such.
func readHexValues(r *reader, k int, c *decodedCol) {
	w := r.count(maxHexBytes)
	if r.err == nil && w == 0 {
		r.fail("hex column of empty values")
	}
	if r.err == nil && k > r.remaining()/w {
		r.fail("hex column longer than its data")
	}
	if r.err != nil {
		return
	}
	src := r.bytes(k * w)
	if r.err != nil {
		return
	}
	buf := make([]byte, 2*len(src))
	hex.Encode(buf, unsafe.Slice(unsafe.StringData(src), len(src)))
	data := unsafe.String(unsafe.SliceData(buf), len(buf))
	for j := range k {
		c.values = append(c.values, data[2*j*w:2*(j+1)*w])
	}
	c.enc, c.data = encRaw, data
}
