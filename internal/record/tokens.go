package record

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Tokens calls fn for every token of s, in order. A token is a maximal run of
// letters, digits and underscores, lowercased. Full-text search (bare words,
// phrases, field:word) and the store's token index both use this function
// (the index through TokenKeys, which scans alike), so that an index lookup
// can never disagree with a scan.
func Tokens(s string, fn func(tok string)) {
	scanTokens(s, func(tok string, ascii bool) {
		if ascii {
			fn(lower(tok))
		} else {
			fn(strings.ToLower(tok))
		}
	})
}

// TokenKeys calls fn for every token of s, in Tokens' order, with key
// holding buf[:prefix] followed by the token as Tokens gives it. An ASCII
// token is lowercased into key byte by byte, where Tokens allocates a
// string for one with upper-case letters; the store hashes such keys for
// its bloom filters, for every value it writes and merges. fn must not
// keep key. It returns buf, grown, for the next call.
//
// ASCII text, nearly all of it in logs, takes one pass that finds,
// lowers and copies each token byte at once through tokenLower; a value
// with a non-ASCII byte is scanned by scanTokens from the token that
// byte falls in, for Unicode letters, digits and case folding.
func TokenKeys(buf []byte, prefix int, s string, fn func(key []byte)) []byte {
	buf = buf[:prefix]
	start := 0 // where the token being copied starts in s
	for i := 0; i < len(s); i++ {
		c := s[i]
		if l := tokenLower[c]; l != 0 {
			buf = append(buf, l)
			continue
		}
		if c >= utf8.RuneSelf {
			return tokenKeysFrom(buf[:prefix], prefix, s, start, fn)
		}
		if len(buf) > prefix {
			fn(buf)
			buf = buf[:prefix]
		}
		start = i + 1
	}
	if len(buf) > prefix {
		fn(buf)
		buf = buf[:prefix]
	}
	return buf
}

// tokenKeysFrom is TokenKeys over s[from:], which starts a token or a
// separator, through scanTokens.
func tokenKeysFrom(buf []byte, prefix int, s string, from int, fn func(key []byte)) []byte {
	scanTokens(s[from:], func(tok string, ascii bool) {
		buf = buf[:prefix]
		if ascii {
			for i := 0; i < len(tok); i++ {
				buf = append(buf, tokenLower[tok[i]])
			}
		} else {
			buf = append(buf, strings.ToLower(tok)...)
		}
		fn(buf)
	})
	return buf[:prefix]
}

// scanTokens calls fn for every token of s, unlowered, in order, saying
// whether it is all ASCII.
func scanTokens(s string, fn func(tok string, ascii bool)) {
	start, ascii := -1, true
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if tokenByte[c] {
				if start < 0 {
					start, ascii = i, true
				}
			} else if start >= 0 {
				fn(s[start:i], ascii)
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
			ascii = false
		} else if start >= 0 {
			fn(s[start:i], ascii)
			start = -1
		}
		i += n
	}
	if start >= 0 {
		fn(s[start:], ascii)
	}
}

// tokenByte says which ASCII bytes are part of a token: letters, digits
// and the underscore.
var tokenByte = func() (t [utf8.RuneSelf]bool) {
	for c := range t {
		t[c] = isTokenByte(byte(c))
	}
	return t
}()

// tokenLower maps an ASCII token byte to itself lowercased and every
// other byte to 0 (no token byte is 0).
var tokenLower = func() (t [256]byte) {
	for c := range utf8.RuneSelf {
		if isTokenByte(byte(c)) {
			t[c] = byte(unicode.ToLower(rune(c)))
		}
	}
	return t
}()

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

// EqualLowerASCII reports whether the first len(w) bytes of s, lowercased
// byte by byte (ASCII letters only), are w, which is lowercase; s is at
// least as long as w.
func EqualLowerASCII(s, w string) bool {
	for i := 0; i < len(w); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != w[i] {
			return false
		}
	}
	return true
}
