package query

import (
	"encoding/binary"
	"github.com/sluice-log/sluice/internal/record"
	"strings"
	"unsafe"
)

// asciiContainsTokens is containsTokens for the common case of an ASCII
// value and ASCII wanted tokens, without tokenising the value: it finds
// the first wanted token case-insensitively at a token start and then
// checks the token boundaries and the tokens that follow in place. ok is
// false when s holds a non-ASCII byte; then Unicode letters, digits and
// case folding (the Kelvin sign lowercases to 'k') need record.Tokens.
//
// For ASCII the tokeniser's tokens are the maximal runs of [A-Za-z0-9_],
// lowercased byte by byte, so this is exactly containsTokens. want must be
// non-empty, each token non-empty, lowercase ASCII of token bytes only
// (as record.TokenList makes them from ASCII text).
func asciiContainsTokens(s string, want []string, prefix bool) (found, ok bool) {
	if !isASCII(s) {
		return false, false
	}
	first := want[0]
	c := first[0]
	// Two cursors, one per case of the first byte, so that each byte of s
	// is scanned by IndexByte at most once per case.
	// A cursor at len(s) has found nothing more.
	lo, up := -1, len(s)
	upper := c
	if c >= 'a' && c <= 'z' {
		upper = c - 'a' + 'A'
		up = -1
	}
	for from := 0; from < len(s); {
		if lo < from {
			lo = indexFrom(s, c, from)
		}
		if up < from {
			up = indexFrom(s, upper, from)
		}
		p := min(lo, up)
		if p == len(s) {
			return false, true
		}
		if (p == 0 || !isTokenByte(s[p-1])) && tokensAt(s, p, want, prefix) {
			return true, true
		}
		from = p + 1
	}
	return false, true
}

// tokensAt reports whether the tokens of s starting at the token start p
// are want, consecutively, the last as a prefix when prefix is set.
func tokensAt(s string, p int, want []string, prefix bool) bool {
	for i, w := range want {
		if i > 0 {
			// Step over the separators to the next token.
			for p < len(s) && !isTokenByte(s[p]) {
				p++
			}
		}
		if len(s)-p < len(w) || !record.EqualLowerASCII(s[p:p+len(w)], w) {
			return false
		}
		p += len(w)
		if prefix && i == len(want)-1 {
			return true
		}
		if p < len(s) && isTokenByte(s[p]) {
			return false // the value's token goes on beyond w
		}
	}
	return true
}

// indexFrom is the index of c in s at or after from, or len(s).
func indexFrom(s string, c byte, from int) int {
	i := strings.IndexByte(s[from:], c)
	if i < 0 {
		return len(s)
	}
	return from + i
}

// isASCII looks at thirty-two bytes at a time, then eight: most log text
// is ASCII, and this check runs for every value a word filter visits and
// over every column the filters search whole. The bytes are read in place
// (unsafe, read only) because a []byte conversion would copy them.
func isASCII(s string) bool {
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	const highs = 0x8080808080808080
	i := 0
	for ; i+32 <= len(b); i += 32 {
		w := (*[32]byte)(b[i : i+32])
		if (binary.LittleEndian.Uint64(w[0:])|binary.LittleEndian.Uint64(w[8:])|
			binary.LittleEndian.Uint64(w[16:])|binary.LittleEndian.Uint64(w[24:]))&highs != 0 {
			return false
		}
	}
	for ; i+8 <= len(b); i += 8 {
		if binary.LittleEndian.Uint64(b[i:])&highs != 0 {
			return false
		}
	}
	for ; i < len(b); i++ {
		if b[i]&0x80 != 0 {
			return false
		}
	}
	return true
}

func isTokenByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// asciiTokens reports whether every token is non-empty ASCII, which
// asciiContainsTokens needs of the tokens it looks for.
func asciiTokens(toks []string) bool {
	for _, t := range toks {
		if t == "" || !isASCII(t) {
			return false
		}
	}
	return len(toks) > 0
}
