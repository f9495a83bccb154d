package record

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Tokens calls fn for every token of s, in order. A token is a maximal run of
// letters, digits and underscores, lowercased. Full-text search (bare words,
// phrases, field:word) and the store's token index both use this function,
// so that an index lookup can never disagree with a scan.
func Tokens(s string, fn func(tok string)) {
	start := -1
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if isTokenByte(c) {
				if start < 0 {
					start = i
				}
			} else if start >= 0 {
				fn(lower(s[start:i]))
				start = -1
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if start < 0 {
				start = i
			}
		} else if start >= 0 {
			fn(lower(s[start:i]))
			start = -1
		}
		i += n
	}
	if start >= 0 {
		fn(lower(s[start:]))
	}
}

// TokenList returns the tokens of s as a slice.
func TokenList(s string) []string {
	var out []string
	Tokens(s, func(t string) { out = append(out, t) })
	return out
}

func isTokenByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// lower avoids an allocation for tokens that are already lowercase ASCII.
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || c >= 'A' && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}
