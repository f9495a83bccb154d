package query

import "github.com/sluice-log/sluice/internal/store"

// The filters answer store.ValuesFilter: the store hands a raw column (or
// the message column) of a block to MatchValues, which decides every value
// without a record per value. Words, phrases and wildcards search the
// whole column's bytes at once, lowercased once, with indexRare; a
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
	if len(f.toks) > 0 && f.ascii && withLower(vs, func(low string) { f.matchLower(low, vs.Values, match) }) {
		return
	}
	for i, v := range vs.Values {
		match[i] = f.matchValue(v)
	}
}

// matchLower is MatchValues over low, the lowercase ASCII of the values'
// Data. Every matching value holds the phrase's token with the rarest
// byte (rarestToken; the first token on a tie), so it finds that token
// anywhere with one indexRare per hit, and a hit decides its value: the
// phrase is searched in that value alone (containsLower), once.
func (f phraseFilter) matchLower(low string, vals []string, match []bool) {
	clear(match)
	k := rarestByte(f.toks[0])
	j, kj := rarestToken(f.toks)
	needle := f.toks[j]
	c := newValueCursor(vals)
	for from := 0; from < len(low); {
		i := indexRare(low[from:], needle, kj)
		if i < 0 {
			return
		}
		p := from + i
		c.seek(p)
		if p+len(needle) <= c.end {
			match[c.row] = f.containsLower(low[c.start:c.end], k)
		}
		// The value is decided; a hit running past its end is its last
		// chance too, as in wildcardFilter.matchLower.
		from = c.end
	}
}

// containsLower reports whether v, lowercase ASCII, holds the phrase's
// tokens: asciiContainsTokens for text with no upper case, looking for
// the first token by its rarest byte, first[k].
func (f phraseFilter) containsLower(v string, k int) bool {
	first := f.toks[0]
	for from := 0; from < len(v); {
		i := indexRare(v[from:], first, k)
		if i < 0 {
			return false
		}
		q := from + i
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
	if f.ascii && needle != "" && withLower(vs, func(low string) { f.matchLower(low, needle, vs.Values, match) }) {
		return
	}
	for i, v := range vs.Values {
		match[i] = f.matchValue(v)
	}
}

// matchLower is MatchValues over low, the lowercase ASCII of the values'
// Data: only a value that holds needle, a segment of the pattern, can
// match, and globMatch decides it. The first hit at or after a value's
// start decides that value: a later hit inside it finds the same.
func (f wildcardFilter) matchLower(low, needle string, vals []string, match []bool) {
	clear(match)
	k := rarestByte(needle)
	c := newValueCursor(vals)
	for from := 0; from < len(low); {
		i := indexRare(low[from:], needle, k)
		if i < 0 {
			return
		}
		p := from + i
		c.seek(p)
		if p+len(needle) <= c.end && globMatch(low[c.start:c.end], f.segments) {
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
