package query

import (
	"encoding/binary"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/store"
)

// This file holds what the filters' MatchValues share: a lowercase copy
// of a column's bytes, the mapping of a place in them to its value, and
// the per-value fallback for a filter that cannot do better.

// lowerBufs pools the lowercase copies: a compiled filter is shared by the
// goroutines of a search, so it cannot own one.
var lowerBufs = sync.Pool{New: func() any { return new([]byte) }}

// boolBufs pools the children's answers of a boolean filter.
var boolBufs = sync.Pool{New: func() any { return new([]bool) }}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// lowerASCII writes s lowercased to dst (grown to len(s)) and reports
// whether s is ASCII; when it is not, dst holds nothing useful. Eight bytes
// at a time: a byte is upper case when adding 0x3f sets its high bit
// ('A' or more) and adding 0x25 does not (not beyond 'Z'); no sum carries
// into the next byte since every byte is below 0x80.
func lowerASCII(dst []byte, s string) ([]byte, bool) {
	dst = slices.Grow(dst[:0], len(s))[:len(s)]
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		if x&highs != 0 {
			return dst, false
		}
		upper := (x + 0x3f*ones) &^ (x + 0x25*ones) & highs
		binary.LittleEndian.PutUint64(dst[i:], x|upper>>2)
	}
	for ; i < len(b); i++ {
		c := b[i]
		if c >= 0x80 {
			return dst, false
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst[i] = c
	}
	return dst, true
}

// withLower calls fn with vs.Data lowercased, when it is ASCII, and
// reports whether it was.
func withLower(vs store.Values, fn func(low string)) bool {
	buf := lowerBufs.Get().(*[]byte)
	defer lowerBufs.Put(buf)
	low, ok := lowerASCII(*buf, vs.Data)
	*buf = low
	if ok {
		// A view of the pooled buffer, used only during fn.
		fn(unsafe.String(unsafe.SliceData(low), len(low)))
	}
	return ok
}

// valueCursor maps places in a store.Values' Data to the values that hold
// them, for places that only grow.
type valueCursor struct {
	vals       []string
	row        int // the value holding the last place sought
	start, end int // where that value lies in Data
}

func newValueCursor(vals []string) valueCursor {
	c := valueCursor{vals: vals}
	if len(vals) > 0 {
		c.end = len(vals[0])
	}
	return c
}

// seek moves to the value holding byte p of Data, which must lie in Data
// at or after the value last sought. Empty values hold no byte and are
// passed over.
func (c *valueCursor) seek(p int) {
	for c.end <= p {
		c.row++
		c.start = c.end
		c.end += len(c.vals[c.row])
	}
}

// matchEach is MatchValues for a filter f of field that lacks it (or a
// child of a boolean filter that does): Match on a record that holds each
// value alone.
func matchEach(f store.Filter, field string, vs store.Values, match []bool) {
	if vf, ok := f.(store.ValuesFilter); ok {
		vf.MatchValues(vs, match)
		return
	}
	var one [1]record.Field
	r := &record.Record{}
	for i, v := range vs.Values {
		if field == record.MessageField {
			r.Message = v
		} else {
			one[0] = record.Field{Name: field, Value: v}
			r.Fields = one[:]
		}
		match[i] = f.Match(r)
	}
}

// childAnswers gives a scratch of n answers for a child filter, and
// the function that returns it to the pool.
func childAnswers(n int) ([]bool, func()) {
	buf := boolBufs.Get().(*[]bool)
	*buf = slices.Grow((*buf)[:0], n)[:n]
	return *buf, func() { boolBufs.Put(buf) }
}

// commonBytes are the bytes of lowercased log text, the most frequent
// first (a rough order: spaces, vowels and digits, then the rest of the
// letters by English frequency). A byte not listed is rarer than all.
const commonBytes = " e01ta2oinsr.-3456789hl:d/c_u=mpf\"gwy,bvkxjqz"

// rarestByte is the index in needle of its byte least frequent in log
// text, for indexRare.
func rarestByte(needle string) int {
	best, bestRank := 0, -1
	for i := 0; i < len(needle); i++ {
		rank := byteRank(needle[i])
		if rank == len(commonBytes) {
			return i
		}
		if rank > bestRank {
			best, bestRank = i, rank
		}
	}
	return best
}

// byteRank is how rare c is in log text: its index in commonBytes, or
// len(commonBytes) for a byte not listed, rarer than all.
func byteRank(c byte) int {
	if r := strings.IndexByte(commonBytes, c); r >= 0 {
		return r
	}
	return len(commonBytes)
}

// indexRare is strings.Index(s, needle) for a non-empty needle, looking
// for needle[k] (its rarest byte, see rarestByte) with IndexByte:
// strings.Index looks for the first byte, and calls IndexByte once per
// occurrence of it, which in text is often (t, c, s). Hits of needle[k]
// come in the order of the places needle would start at, so the first
// whole match is the leftmost.
func indexRare(s, needle string, k int) int {
	c := needle[k]
	for from := k; from < len(s); {
		i := strings.IndexByte(s[from:], c)
		if i < 0 {
			return -1
		}
		p := from + i - k
		if p+len(needle) > len(s) {
			return -1
		}
		if s[p:p+len(needle)] == needle {
			return p
		}
		from += i + 1
	}
	return -1
}
