package store

import (
	"bytes"
	"slices"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/sluice-log/sluice/internal/record"
)

// The head keeps its records as they came, encoded back to back in chunks
// that every stream shares, without the bloom filters a part's blocks
// have: a search for a rare word or id (`trace_id:…`) decoded every head
// record in its range and asked the filter of each, about 500 ns a
// record (BenchmarkHeadTokenSearch: 200,000 records, 116 ms of CPU for
// an id), and under ingest a search ending now has a full head in its
// range. A record that matches a TokenFilter holds its tokens in its
// field's value, so its chunk holds the token's bytes (up to ASCII
// case): one search per chunk rules out every record of a chunk that
// does not, before any is decoded.

// headTokenOf returns the token the head's chunks are searched for
// (headChunks), and the field that holds it: a token of a TokenFilter
// on a field whose value is in a head record's bytes (not a label, which
// the caller checks per stream, nor _time or _stream), the longest of
// them; "" when there is none to search for.
func headTokenOf(f Filter) (tok, field string) {
	tf, ok := f.(TokenFilter)
	if !ok {
		return "", ""
	}
	field = tf.MatchField()
	if field != record.MessageField && fieldFilterOf(f) == "" {
		return "", ""
	}
	for _, t := range tf.WholeTokens() {
		if len(t) > len(tok) && rawToken(t) {
			tok = t
		}
	}
	if tok == "" {
		return "", ""
	}
	return tok, field
}

// rawToken reports whether t is one token of lowercase ASCII (as
// record.Tokens makes of ASCII text): then a value that holds it as a
// token holds its bytes up to ASCII case, or a non-ASCII letter that
// lowercases to one of them (foldsFromNonASCII).
func rawToken(t string) bool {
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !isTokenByte(c) || c >= 'A' && c <= 'Z' {
			return false
		}
	}
	return t != ""
}

func isTokenByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// foldsFromNonASCII holds, per ASCII byte, the UTF-8 of the non-ASCII
// runes that lowercase to it (unicode.ToLower, as strings.ToLower in
// record.Tokens does): the Kelvin sign's k, the dotted capital I's i.
// Runes outside unicode.CaseRanges lowercase to themselves.
var foldsFromNonASCII = func() (t [utf8.RuneSelf][]string) {
	for _, cr := range unicode.CaseRanges {
		for r := max(rune(cr.Lo), utf8.RuneSelf); r <= rune(cr.Hi); r++ {
			if l := unicode.ToLower(r); l < utf8.RuneSelf {
				t[l] = append(t[l], string(r))
			}
		}
	}
	return t
}()

// headChunks says whether each chunk of a head holds a token (up to ASCII
// case, or a non-ASCII letter that lowercases to one of its bytes), each
// chunk looked at when a stream in the search first has a record there.
type headChunks struct {
	chunks [][]byte
	tok    string
	folds  []string // the UTF-8 of the non-ASCII letters that lowercase to a byte of tok
	may    []int8   // per chunk: 0 not looked at yet, 1 holds tok, -1 does not
}

func newHeadChunks(chunks [][]byte, tok string) *headChunks {
	h := &headChunks{chunks: chunks, tok: tok, may: make([]int8, len(chunks))}
	for i := 0; i < len(tok); i++ {
		for _, f := range foldsFromNonASCII[tok[i]] {
			if !slices.Contains(h.folds, f) {
				h.folds = append(h.folds, f)
			}
		}
	}
	return h
}

// holds reports whether chunk ci holds the token.
func (h *headChunks) holds(ci int) bool {
	if h.may[ci] == 0 {
		c := h.chunks[ci]
		h.may[ci] = -1
		if containsFoldASCII(c, h.tok) || slices.ContainsFunc(h.folds, func(f string) bool { return bytes.Contains(c, []byte(f)) }) {
			h.may[ci] = 1
		}
	}
	return h.may[ci] > 0
}

// containsFoldASCII reports whether b holds t up to ASCII case; t is
// lowercase ASCII. It looks for one byte of t with IndexByte (a digit or
// '_' when t has one, whose case is fixed; else both cases of its first
// letter) and compares the rest in place.
func containsFoldASCII(b []byte, t string) bool {
	if len(t) == 0 {
		return true
	}
	k := 0
	for i := 0; i < len(t); i++ {
		if t[i] < 'a' || t[i] > 'z' {
			k = i
			break
		}
	}
	c := t[k]
	upper := c
	if c >= 'a' && c <= 'z' {
		upper = c - 'a' + 'A'
	}
	for _, a := range []byte{c, upper} {
		for from := k; from < len(b)-(len(t)-k)+1; {
			i := bytes.IndexByte(b[from:len(b)-(len(t)-k)+1], a)
			if i < 0 {
				break
			}
			p := from + i - k
			if record.EqualLowerASCII(unsafe.String(&b[p], len(t)), t) {
				return true
			}
			from += i + 1
		}
		if upper == c {
			break
		}
	}
	return false
}

// headMayMatch narrows hv's records to those in chunks that may hold a
// match (h: hv's head's chunks); false when none is left.
func headMayMatch(hv *headView, h *headChunks) bool {
	offs := hv.offs
	if len(offs) == 0 {
		return false
	}
	lo, hi := int(offs[0]>>32), int(offs[len(offs)-1]>>32)
	all, none := true, true
	for ci := lo; ci <= hi; ci++ {
		m := h.holds(ci)
		all = all && m
		none = none && !m
	}
	switch {
	case all:
		return true
	case none:
		return false
	}
	kept := make([]uint64, 0, len(offs))
	times := make([]int64, 0, len(offs))
	for i, off := range offs {
		if h.holds(int(off >> 32)) {
			kept = append(kept, off)
			times = append(times, hv.times[i])
		}
	}
	hv.offs, hv.times = kept, times
	return len(kept) > 0
}
