package query

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/store"
)

// phraseFilter matches words, phrases and prefixes: the field's tokens must
// contain toks consecutively; with prefix set, the last one only as a
// prefix of a field token.
type phraseFilter struct {
	field  string
	value  string
	toks   []string
	prefix bool
	ascii  bool // toks are ASCII: asciiContainsTokens may answer
}

func newPhraseFilter(field, value string, prefix bool) phraseFilter {
	f := phraseFilter{field: field, value: value, toks: record.TokenList(value)}
	// `web-*` ends in a separator, so its last token is a whole word.
	f.prefix = prefix && endsInTokenChar(value)
	f.ascii = asciiTokens(f.toks)
	return f
}

func endsInTokenChar(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

func (f phraseFilter) Match(r *record.Record) bool {
	v, _ := r.Get(f.field)
	return f.matchValue(v)
}

// matchValue is Match for a record whose field holds v ("" when absent).
func (f phraseFilter) matchValue(v string) bool {
	if len(f.toks) == 0 {
		// Nothing to search by words: compare the whole value, so that
		// field:"" finds records without the field.
		return v == f.value
	}
	if f.ascii {
		if found, ok := asciiContainsTokens(v, f.toks, f.prefix); ok {
			return found
		}
	}
	return containsTokens(v, f.toks, f.prefix)
}

// containsTokens reports whether the tokens of s contain want
// consecutively, the last one as a prefix when prefix is set.
func containsTokens(s string, want []string, prefix bool) bool {
	eq := func(tok string, i int) bool {
		if prefix && i == len(want)-1 {
			return strings.HasPrefix(tok, want[i])
		}
		return tok == want[i]
	}
	if len(want) == 1 {
		found := false
		record.Tokens(s, func(tok string) {
			if !found && eq(tok, 0) {
				found = true
			}
		})
		return found
	}
	var buf [32]string
	toks := buf[:0]
	record.Tokens(s, func(tok string) { toks = append(toks, tok) })
	for start := 0; start+len(want) <= len(toks); start++ {
		i := 0
		for i < len(want) && eq(toks[start+i], i) {
			i++
		}
		if i == len(want) {
			return true
		}
	}
	return false
}

func (f phraseFilter) MayMatch(b store.BlockSummary) bool {
	if !indexed(f.field) || len(f.toks) == 0 {
		return true
	}
	whole := f.toks
	if f.prefix {
		whole = whole[:len(whole)-1]
	}
	for _, t := range whole {
		if !b.MayContainToken(f.field, t) {
			return false
		}
	}
	if f.field != record.MessageField && len(whole) == 0 {
		return b.MayHaveField(f.field)
	}
	return true
}
