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
// Data: it finds the first token anywhere with one indexRare per hit,
// and checks at the hit, inside its value alone, what asciiContainsTokens
// checks (a token start, then the tokens in place).
func (f phraseFilter) matchLower(low string, vals []string, match []bool) {
	clear(match)
	first := f.toks[0]
	k := rarestByte(first)
	c := newValueCursor(vals)
	for from := 0; from < len(low); {
		i := indexRare(low[from:], first, k)
		if i < 0 {
			return
		}
		p := from + i
		c.seek(p)
		v, q := low[c.start:c.end], p-c.start
		if (q == 0 || !isTokenByte(v[q-1])) && tokensAt(v, q, f.toks, f.prefix) {
			match[c.row] = true
			from = c.end
			continue
		}
		from = p + 1
	}
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
