package query

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sluice-log/sluice/internal/record"
)

// boundedTokens returns the tokens of lit (as record.Tokens makes them) that
// a value holding lit must hold as whole tokens, which is what the store's
// token index can answer for. A token touching an end of lit may continue
// beyond it in the value ("error" in "errors") unless that end is bounded:
// the value starts or ends there.
func boundedTokens(lit string, leftBounded, rightBounded bool) []string {
	var out []string
	start := -1
	emit := func(end int) {
		if (start > 0 || leftBounded) && (end < len(lit) || rightBounded) {
			out = append(out, strings.ToLower(lit[start:end]))
		}
		start = -1
	}
	for i := 0; i < len(lit); {
		r, n := utf8.DecodeRuneInString(lit[i:])
		if r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) {
			if start < 0 {
				start = i
			}
		} else if start >= 0 {
			emit(i)
		}
		i += n
	}
	if start >= 0 {
		emit(len(lit))
	}
	return out
}

// mayHoldTokens is the MayMatch shared by filters that know tokens a match
// must hold; besides, a block without the field holds no match (the
// message is always present).
func mayHoldTokens(b mayTokener, field string, toks []string) bool {
	if !indexed(field) {
		return true
	}
	for _, t := range toks {
		if !b.MayContainToken(field, t) {
			return false
		}
	}
	return field == record.MessageField || b.MayHaveField(field)
}

type mayTokener interface {
	MayHaveField(field string) bool
	MayContainToken(field, token string) bool
}

// wholeTokens is what a filter on field whose every match holds toks as
// whole tokens answers store.TokenFilter: toks, where MayMatch asks the
// bloom filters about them (mayHoldTokens), which relies on the same.
func wholeTokens(field string, toks []string) []string {
	if !indexed(field) {
		return nil
	}
	return toks
}
