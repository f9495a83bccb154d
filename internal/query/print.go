package query

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// isPlainWord reports whether s lexes back as one word with the same text
// and the same meaning, so that it can be printed without quotes. bare is
// true for a word standing alone (where a leading '-' means NOT).
func isPlainWord(s string, bare bool) bool {
	if s == "" || isKeyword(s) || s[0] == '<' || s[0] == '>' || (bare && s[0] == '-') {
		return false
	}
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) || strings.ContainsRune(`()[]{}":|,*`, r) {
			return false
		}
		i += n
	}
	return true
}

func isKeyword(s string) bool {
	switch strings.ToUpper(s) {
	case "AND", "OR", "NOT", "TO":
		return true
	}
	return false
}

// valueString prints a value after `field:`.
func valueString(s string) string {
	if isPlainWord(s, false) && s[0] != '=' && s[0] != '/' {
		return s
	}
	return quote(s)
}

// quote prints s as a quoted string the lexer reads back unchanged.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// isFieldName reports whether s can be written as a field name without
// quotes: letters, digits and _ . - @, not starting with '-' (which would
// read as NOT).
func isFieldName(s string) bool {
	if s == "" || s[0] == '-' {
		return false
	}
	for _, r := range s {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("_.-@", r)) {
			return false
		}
	}
	return true
}
