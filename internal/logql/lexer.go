package logql

import (
	"fmt"
	"strconv"
	"strings"
)

type tokKind int

const (
	tEOF    tokKind = iota
	tPunct          // { } ( ) [ ] ,
	tOp             // | |= |~ != !~ = =~ == > >= < <= and the other operators
	tString         // "…" or `…`, decoded
	tWord           // identifiers, numbers, durations
)

type token struct {
	kind tokKind
	text string
	pos  int
}

// ParseError is a query that is not LogQL.
type ParseError struct {
	Pos int
	Msg string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("parse error at position %d: %s", e.Pos+1, e.Msg)
}

// UnsupportedError is LogQL that Sluice does not serve.
type UnsupportedError struct {
	Pos       int
	Construct string
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("unsupported LogQL at position %d: %s is not in the subset Sluice serves (see docs/grafana.md)", e.Pos+1, e.Construct)
}

// maxQueryLen bounds what the lexer reads; a query is typed or generated
// by a dashboard, never megabytes.
const maxQueryLen = 64 << 10

// operators longest first, so that a longer one wins.
var operators = []string{"|=", "|~", "!=", "!~", "=~", "==", ">=", "<=", "|", "=", ">", "<",
	"+", "-", "*", "/", "%", "^"}

func isWordByte(c byte) bool {
	return c == '_' || c == '.' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func lex(s string) ([]token, error) {
	if len(s) > maxQueryLen {
		return nil, &ParseError{0, fmt.Sprintf("query of %d bytes is longer than %d", len(s), maxQueryLen)}
	}
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '#':
			// A comment runs to the end of the line.
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case strings.IndexByte("{}()[],", c) >= 0:
			toks = append(toks, token{tPunct, s[i : i+1], i})
			i++
		case c == '"' || c == '`':
			text, end, err := lexString(s, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{tString, text, i})
			i = end
		case c == '-' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9' && (len(toks) == 0 || toks[len(toks)-1].kind == tOp):
			// A negative number where an operand is expected.
			end := i + 1
			for end < len(s) && isWordByte(s[end]) {
				end++
			}
			toks = append(toks, token{tWord, s[i:end], i})
			i = end
		case isWordByte(c):
			end := i
			for end < len(s) && isWordByte(s[end]) {
				end++
			}
			toks = append(toks, token{tWord, s[i:end], i})
			i = end
		default:
			op := ""
			for _, o := range operators {
				if strings.HasPrefix(s[i:], o) {
					op = o
					break
				}
			}
			if op == "" {
				return nil, &ParseError{i, fmt.Sprintf("unexpected character %q", s[i:i+1])}
			}
			toks = append(toks, token{tOp, op, i})
			i += len(op)
		}
	}
	return append(toks, token{tEOF, "", len(s)}), nil
}

// lexString reads a Go-style quoted string ("…" with escapes, or `…` raw)
// as LogQL writes them, and returns its value.
func lexString(s string, start int) (string, int, error) {
	q := s[start]
	for i := start + 1; i < len(s); i++ {
		switch {
		case s[i] == '\\' && q == '"':
			i++
		case s[i] == q:
			v, err := strconv.Unquote(s[start : i+1])
			if err != nil {
				return "", 0, &ParseError{start, fmt.Sprintf("invalid string %s: %v", s[start:i+1], err)}
			}
			return v, i + 1, nil
		}
	}
	return "", 0, &ParseError{start, "unterminated string"}
}
