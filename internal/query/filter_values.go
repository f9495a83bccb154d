package query

import "github.com/sluice-log/sluice/internal/store"

// The filters answer store.ValuesFilter: the store hands a raw column (or
// the message column) of a block to MatchValues, which decides every value
// without a record per value. Words, phrases and wildcards search the
// whole column's bytes at once, ignoring ASCII case, with foldIndex; a
// hit is mapped to its value, and a value decided to match is jumped over.
// Every answer is Match's: a column with a non-ASCII byte is decided value
// by value as Match does, for Unicode tokens and case folding.

var (
	_ store.ValuesFilter = phraseFilter{}
	_ store.ValuesFilter = exactFilter{}
	_ store.ValuesFilter = rangeFilter{}
	_ store.ValuesFilter = wildcardFilter{}
	_ store.ValuesFilter = andFilter{}
	_ store.ValuesFilter = orFilter{}
	_ store.ValuesFilter = notFilter{}
)

func (f phraseFilter) MatchValues(vs store.Values, match []bool) {
	if len(f.toks) > 0 && f.ascii && isASCII(vs.Data) {
		f.matchFold(vs.Data, vs.Values, match)
		return
	}
	for i, v := range vs.Values {
		match[i] = f.matchValue(v)
	}
}

// matchFold is MatchValues over data, the values' Data, ASCII. Every
// matching value holds the phrase's token with the rarest byte
// (rarestToken; the first token on a tie), so it finds that token
// anywhere with foldIndex, and a hit decides its value: the phrase is
// searched in that value alone (containsFold), once.
func (f phraseFilter) matchFold(data string, vals []string, match []bool) {
	clear(match)
	k := rarestByte(f.toks[0])
	j, kj := rarestToken(f.toks)
	needle := f.toks[j]
	x := newFoldIndex(data, needle, kj)
	c := newValueCursor(vals)
	for from := 0; from < len(data); {
		p := x.index(from)
		if p < 0 {
			return
		}
		c.seek(p)
		if p+len(needle) <= c.end {
			match[c.row] = f.containsFold(data[c.start:c.end], k)
		}
		// The value is decided; a hit running past its end is its last
		// chance too, as in wildcardFilter.matchFold.
		from = c.end
	}
}

// containsFold reports whether v, ASCII, holds the phrase's tokens
// (asciiContainsTokens), looking for the first token by its rarest byte,
// first[k].
func (f phraseFilter) containsFold(v string, k int) bool {
	x := newFoldIndex(v, f.toks[0], k)
	for from := 0; from < len(v); {
		q := x.index(from)
		if q < 0 {
			return false
		}
		if (q == 0 || !isTokenByte(v[q-1])) && tokensAt(v, q, f.toks, f.prefix) {
			return true
		}
		from = q + 1
	}
	return false
}

// rarestToken is the index of the token of toks that holds the rarest
// byte (see rarestByte; the first token on a tie) and the index of that
// byte in it.
func rarestToken(toks []string) (tok, k int) {
	best := -1
	for i, t := range toks {
		j := rarestByte(t)
		if r := byteRank(t[j]); r > best {
			tok, k, best = i, j, r
		}
	}
	return tok, k
}

func (f wildcardFilter) MatchValues(vs store.Values, match []bool) {
	needle := longest(f.segments)
	if f.ascii && needle != "" && isASCII(vs.Data) {
		f.matchFold(vs.Data, needle, vs.Values, match)
		return
	}
	for i, v := range vs.Values {
		match[i] = f.matchValue(v)
	}
}

// matchFold is MatchValues over data, the values' Data, ASCII: only a
// value that holds needle, a segment of the pattern, can match, and
// globMatchASCII decides it (a hit alone for `*needle*`). The first hit
// at or after a value's start decides that value: a later hit inside it
// finds the same.
func (f wildcardFilter) matchFold(data, needle string, vals []string, match []bool) {
	clear(match)
	infix := len(f.segments) == 3 && f.segments[0] == "" && f.segments[2] == ""
	x := newFoldIndex(data, needle, rarestByte(needle))
	c := newValueCursor(vals)
	for from := 0; from < len(data); {
		p := x.index(from)
		if p < 0 {
			return
		}
		c.seek(p)
		if p+len(needle) <= c.end && (infix || globMatchASCII(data[c.start:c.end], f.segments)) {
			match[c.row] = true
		}
		// A hit that runs past its value's end is the value's last
		// chance too: any later one starts later.
		from = c.end
	}
}

// longest is the longest of segments.
func longest(segments []string) string {
	l := ""
	for _, s := range segments {
		if len(s) > len(l) {
			l = s
		}
	}
	return l
}

func (f rangeFilter) MatchValues(vs store.Values, match []bool) {
	for i, v := range vs.Values {
		match[i] = f.matchValue(v)
	}
}

func (f exactFilter) MatchValues(vs store.Values, match []bool) {
	for i, v := range vs.Values {
		match[i] = v == f.value
	}
}

func (f andFilter) MatchValues(vs store.Values, match []bool) {
	for i := range match {
		match[i] = true
	}
	field := f.MatchField()
	tmp, done := childAnswers(len(match))
	defer done()
	for _, c := range f {
		matchEach(c, field, vs, tmp)
		for i, m := range tmp {
			match[i] = match[i] && m
		}
	}
}

func (f orFilter) MatchValues(vs store.Values, match []bool) {
	clear(match)
	field := f.MatchField()
	tmp, done := childAnswers(len(match))
	defer done()
	for _, c := range f {
		matchEach(c, field, vs, tmp)
		for i, m := range tmp {
			match[i] = match[i] || m
		}
	}
}

func (f notFilter) MatchValues(vs store.Values, match []bool) {
	matchEach(f.child, f.MatchField(), vs, match)
	for i, m := range match {
		match[i] = !m
	}
}
