// Package logfmt parses logfmt lines (key=value pairs separated by spaces,
// values optionally "quoted" with \" escapes), for the query language's
// unpack_logfmt pipe and the processing pipeline's parse_logfmt. It knows
// nothing else.
package logfmt

import (
	"strings"

	"github.com/sluice-log/sluice/internal/record"
)

// Parse appends the key=value pairs of s to dst. Bare words (no '=') and
// pairs with an empty key are skipped; an unterminated quoted value runs to
// the end of s. Values that need no unescaping are substrings of s.
func Parse(s string, dst []record.Field) []record.Field {
	i := 0
	for i < len(s) {
		for i < len(s) && s[i] == ' ' {
			i++
		}
		start := i
		for i < len(s) && s[i] != '=' && s[i] != ' ' {
			i++
		}
		key := s[start:i]
		if i >= len(s) || s[i] != '=' {
			continue // a bare key
		}
		i++
		var val string
		if i < len(s) && s[i] == '"' {
			val, i = quoted(s, i+1)
		} else {
			start := i
			for i < len(s) && s[i] != ' ' {
				i++
			}
			val = s[start:i]
		}
		if key != "" {
			dst = append(dst, record.Field{Name: key, Value: val})
		}
	}
	return dst
}

// quoted reads a quoted value starting at i (after the opening quote) and
// returns it and the index after its closing quote.
func quoted(s string, i int) (string, int) {
	start := i
	for i < len(s) && s[i] != '"' && s[i] != '\\' {
		i++
	}
	if i >= len(s) || s[i] == '"' {
		return s[start:i], i + 1
	}
	var b strings.Builder
	b.WriteString(s[start:i])
	for i < len(s) && s[i] != '"' {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String(), i + 1
}
