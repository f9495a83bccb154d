package query

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// ParseError is the error Parse returns for malformed queries.
type ParseError struct {
	// Pos is the byte offset in the query where the problem was found.
	Pos int
	// Line and Col locate Pos for people: both start at 1 and Col counts
	// characters, not bytes.
	Line, Col int
	// Msg says what was expected and what was found.
	Msg string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("query: %d:%d: %s", e.Line, e.Col, e.Msg)
}

func newParseError(src string, pos int, format string, args ...any) *ParseError {
	if pos > len(src) {
		pos = len(src)
	}
	before := src[:pos]
	line := 1 + strings.Count(before, "\n")
	if nl := strings.LastIndexByte(before, '\n'); nl >= 0 {
		before = before[nl+1:]
	}
	return &ParseError{
		Pos:  pos,
		Line: line,
		Col:  1 + utf8.RuneCountInString(before),
		Msg:  fmt.Sprintf(format, args...),
	}
}
