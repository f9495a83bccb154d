package query

import (
	"slices"
	"strings"
	"sync"

	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/store"
)

// This file holds what the filters' MatchValues share: a search of a
// column's bytes that ignores ASCII case, the mapping of a place in them
// to its value, and the per-value fallback for a filter that cannot do
// better.

// boolBufs pools the children's answers of a boolean filter.
var boolBufs = sync.Pool{New: func() any { return new([]bool) }}

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
// text, for foldIndex.
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

// foldIndex finds a lowercase ASCII needle in ASCII text s ignoring
// case, as strings.Index finds it in the text lowercased, without a
// lowercase copy of the text (which costs a write of every byte): it looks
// for the needle's rarest byte (needle[k], see rarestByte) with IndexByte,
// in both cases when it is a letter, and compares the needle around each
// hit with EqualLowerASCII. Hits of needle[k] come in the order of the
// places needle would start at, so the first whole match is the leftmost.
// It keeps the next place of each case of the byte between calls, so that
// each byte of s is scanned once per case, however many calls.
type foldIndex struct {
	s, needle string
	k         int
	c, upper  byte // needle[k] and its upper case (c itself when no letter)
	lo, up    int  // the next place of c and of upper found, len(s) for none
}

func newFoldIndex(s, needle string, k int) foldIndex {
	x := foldIndex{s: s, needle: needle, k: k, c: needle[k], upper: needle[k], lo: -1, up: -1}
	if x.c >= 'a' && x.c <= 'z' {
		x.upper = x.c - 'a' + 'A'
	} else {
		x.up = len(s) // one case: the second cursor never finds
	}
	return x
}

// index is the first place at or after from where the needle starts, or
// -1. The places asked must not go back.
func (x *foldIndex) index(from int) int {
	for {
		q := from + x.k
		if q >= len(x.s) {
			return -1
		}
		if x.lo < q {
			x.lo = indexFrom(x.s, x.c, q)
		}
		if x.up < q {
			x.up = indexFrom(x.s, x.upper, q)
		}
		at := min(x.lo, x.up)
		p := at - x.k
		if at == len(x.s) || p+len(x.needle) > len(x.s) {
			return -1
		}
		if record.EqualLowerASCII(x.s[p:], x.needle) {
			return p
		}
		from = p + 1
	}
}
