package store

import (
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strings"
	"unsafe"

	"github.com/sluice-log/sluice/internal/record"
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
	// One pass checks and decodes each value (a check before decoding
	// took most of this function's time on trace ids); on the first value
	// that is not l lowercase digits, dst is given back as it came.
	orig := len(dst)
	w := l / 2
	dst = binary.AppendUvarint(dst, uint64(w))
	start := len(dst)
	dst = slices.Grow(dst, len(vals)*w)[:start+len(vals)*w]
	for j, v := range vals {
		if len(v) != l || !decodeLowerHex(dst[start+j*w:start+(j+1)*w], v) {
			return dst[:orig], false
		}
	}
	return dst, true
}

// isLowerHex reports whether every byte of v is one of 0-9a-f: the digits
// hex.EncodeToString writes, so that the text comes back byte for byte.
func isLowerHex(v string) bool {
	for i := 0; i < len(v); i++ {
		if lowerHexDigit[v[i]] == 0xff {
			return false
		}
	}
	return true
}

// lowerHexDigit maps a byte to the value of the lowercase hex digit it is,
// 0xff to any other byte (upper case too: hex.Decode would take 'A', but
// it would come back as 'a').
var lowerHexDigit = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := byte('0'); c <= '9'; c++ {
		t[c] = c - '0'
	}
	for c := byte('a'); c <= 'f'; c++ {
		t[c] = c - 'a' + 10
	}
	return t
}()

// decodeLowerHex writes the bytes that the 2·len(dst) lowercase hex
// digits of v spell into dst and reports whether v was such digits (dst
// holds garbage if not).
func decodeLowerHex(dst []byte, v string) bool {
	v = v[:2*len(dst)]
	var bad byte
	for i := range dst {
		hi, lo := lowerHexDigit[v[2*i]], lowerHexDigit[v[2*i+1]]
		bad |= hi | lo
		dst[i] = hi<<4 | lo
	}
	return bad&0xf0 == 0
}

// readHexValues decodes k encHex values into c as the raw values they
// spell: their texts, back to back in one allocation (c.data), one per
// row, so that every reader of raw values reads them as such. Only the
// values [lo, hi) are spelled; the others are empty, for a reader that
// looks at those alone (a search whose time range the block's time index
// places in those rows): a block that a time range cuts is read whole,
// and spelling every id of it, in a buffer for the GC to clear and
// collect, was most of the cost of grouping a few minutes by trace id.
func readHexValues(r *reader, k int, c *decodedCol, lo, hi int) {
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
	lo, hi = min(max(lo, 0), k), min(max(hi, lo), k)
	spelled := src[lo*w : hi*w]
	buf := make([]byte, 2*len(spelled))
	hex.Encode(buf, unsafe.Slice(unsafe.StringData(spelled), len(spelled)))
	data := unsafe.String(unsafe.SliceData(buf), len(buf))
	// The values left out are empty, where they keep c.data's values back
	// to back (Values): at its start before the spelled ones, at its end
	// after them.
	for range lo {
		c.values = append(c.values, data[:0])
	}
	for j := range hi - lo {
		c.values = append(c.values, data[2*j*w:2*(j+1)*w])
	}
	for range k - hi {
		c.values = append(c.values, data[len(data):])
	}
	c.enc, c.data = encRaw, data
	c.hex, c.hexWidth = src, w
}

// hexWant is what a search knows of the values of one field that can
// match its filter, from the tokens every match holds (TokenFilter): a
// value of a hex column is one token, so it must be every one of them,
// and a hex column of the field can hold a match only in a value whose
// bytes are id. A block whose column holds no such value (a bloom
// filter's false positive, most blocks read by a search for one id) is
// ruled out without spelling its values as text.
type hexWant struct {
	field string // "" when the search knows nothing of the kind
	id    string // the bytes the token spells
	none  bool   // no hex value can be the tokens: they differ, or one is not lowercase hex of even length
}

// newHexWant is the hexWant of a filter on field whose every match holds
// toks as whole tokens.
func newHexWant(field string, toks []string) hexWant {
	if field == "" || len(toks) == 0 {
		return hexWant{}
	}
	h := hexWant{field: field}
	t := toks[0]
	for _, o := range toks[1:] {
		if o != t {
			h.none = true
			return h
		}
	}
	if len(t) == 0 || len(t)%2 != 0 || len(t) > 2*maxHexBytes || !isLowerHex(t) {
		h.none = true
		return h
	}
	id, _ := hex.DecodeString(t) // cannot fail: lowercase hex of even length
	h.id = string(id)
	return h
}

// holds reports whether src, values of w bytes back to back, holds one
// that may match: one whose bytes are h.id.
func (h *hexWant) holds(src string, w int) bool {
	if h.none || len(h.id) != w {
		return false
	}
	for from := 0; from < len(src); {
		i := strings.Index(src[from:], h.id)
		if i < 0 {
			return false
		}
		at := from + i
		if at%w == 0 {
			return true
		}
		// A value starts at the next multiple of w.
		from = (at/w + 1) * w
	}
	return false
}

// rejectHex reads the encHex values of k rows of column c, field name, and
// reports whether they hold no value that may match d.want (see hexWant):
// then r has consumed them, c is left empty, and nothing is decoded.
// Otherwise r is untouched, for readValues.
func (d *decodedBlock) rejectHex(r *reader, name string, k int, c *decodedCol) bool {
	if d.want.field == "" || d.want.field != name {
		return false
	}
	rr := *r
	w := rr.count(maxHexBytes)
	if rr.err != nil || w == 0 || k > rr.remaining()/w {
		return false // readValues fails it as corrupt
	}
	src := rr.bytes(k * w)
	if rr.err != nil || d.want.holds(src, w) {
		return false
	}
	*r = rr
	c.enc, c.values, c.data, c.codes = encRaw, c.values[:0], "", ""
	c.hex, c.hexWidth = "", 0
	return true
}

// matchHex sets match[p] for the present rows p of c, a hex column of the
// field the search wants one id of (want): only a row whose bytes are the
// id is asked about (match is its answer, its text in the record r holds
// besides the block's labels); the others cannot match. ok is false when
// c is no such column.
func (ss *searcher) matchHex(c *decodedCol, match []bool, r *record.Record) (ok bool) {
	h := &ss.want
	if c.hex == "" || h.field != c.name || h.none || len(h.id) != c.hexWidth {
		return false
	}
	clear(match)
	one := &ss.hcount.one
	w := c.hexWidth
	for from := 0; from < len(c.hex); {
		i := strings.Index(c.hex[from:], h.id)
		if i < 0 {
			break
		}
		at := from + i
		if at%w == 0 {
			p := at / w
			one[0] = record.Field{Name: c.name, Value: c.values[p]}
			r.Fields = one[:]
			match[p] = ss.req.Filter.Match(r)
			from = at + w
			continue
		}
		from = (at/w + 1) * w
	}
	r.Fields = nil
	return true
}
