package query

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

type tokenKind uint8

const (
	tokEOF tokenKind = iota
	tokWord
	tokString // a quoted string; text holds the unescaped value
	tokLParen
	tokRParen
	tokLBrack
	tokRBrack
	tokLBrace
	tokRBrace
	tokColon
	tokPipe
	tokComma // only after the first '|': in a filter a comma is part of a word
	tokOp    // <, <=, > or >=
	tokRegex // /re/ right after ':'; text holds the pattern, '\/' unescaped
)

type token struct {
	kind tokenKind
	text string
	pos  int // byte offset of the token's first byte
	// path marks a word that starts with '/' after ':' (path:/api/v1/*):
	// a trailing '*' is a prefix of the whole value, as in Kibana.
	path bool
}

// describe renders a token for error messages ("found …").
func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "end of query"
	case tokWord:
		return strconv.Quote(t.text)
	case tokString:
		return "quoted string " + strconv.Quote(t.text)
	case tokRegex:
		return "regular expression " + regexLiteral(t.text)
	default:
		return "'" + t.text + "'"
	}
}

// lex splits s into tokens. The lexer is context free except for two
// things: after the first '|' commas separate arguments of pipes, while in
// the filter they are ordinary word characters (so that `foo,bar` needs no
// quotes); and a '/' right after ':' starts a regular expression.
func lex(s string) ([]token, error) {
	var toks []token
	inPipes := false
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			i += n
			continue
		}
		c := s[i]
		if kind, ok := punctuation(c, inPipes); ok {
			toks = append(toks, token{kind: kind, text: s[i : i+1], pos: i})
			if kind == tokPipe {
				inPipes = true
			}
			i++
			continue
		}
		switch {
		case c == '/' && len(toks) > 0 && toks[len(toks)-1].kind == tokColon:
			tok, end, err := lexSlashValue(s, i, inPipes)
			if err != nil {
				return nil, err
			}
			toks = append(toks, tok)
			i = end
		case c == '"':
			text, end, err := lexString(s, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{kind: tokString, text: text, pos: i})
			i = end
		case c == '<' || c == '>':
			end := i + 1
			if end < len(s) && s[end] == '=' {
				end++
			}
			toks = append(toks, token{kind: tokOp, text: s[i:end], pos: i})
			i = end
		default:
			end := wordEnd(s, i, inPipes)
			toks = append(toks, token{kind: tokWord, text: s[i:end], pos: i})
			i = end
		}
	}
	return append(toks, token{kind: tokEOF, pos: len(s)}), nil
}

func punctuation(c byte, inPipes bool) (tokenKind, bool) {
	switch c {
	case '(':
		return tokLParen, true
	case ')':
		return tokRParen, true
	case '[':
		return tokLBrack, true
	case ']':
		return tokRBrack, true
	case '{':
		return tokLBrace, true
	case '}':
		return tokRBrace, true
	case ':':
		return tokColon, true
	case '|':
		return tokPipe, true
	case ',':
		return tokComma, inPipes
	}
	return tokEOF, false
}

// wordEnd returns the end of the word that starts at i. '<' and '>' start an
// operator only at the start of a word.
func wordEnd(s string, i int, inPipes bool) int {
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) || s[i] == '"' {
			break
		}
		if _, ok := punctuation(s[i], inPipes); ok {
			break
		}
		i += n
	}
	return i
}

// lexString reads the quoted string starting at s[start] == '"'. \" and \\
// are escapes; any other backslash is kept as it is, so that Windows paths
// need no doubling.
func lexString(s string, start int) (string, int, error) {
	var b strings.Builder
	for i := start + 1; i < len(s); i++ {
		switch s[i] {
		case '"':
			return b.String(), i + 1, nil
		case '\\':
			if i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
				i++
			}
		}
		b.WriteByte(s[i])
	}
	return "", 0, newParseError(s, start, "unterminated quoted string: expected a closing '\"'")
}

// lexSlashValue reads a value after ':' that starts with '/': a regular
// expression when its closing '/' ends the value (the end of the query,
// a space, ')' or '|' follows), else the literal word, as a Kibana user
// writes a path (path:/api/v1/*). A word that ends with an unescaped '/'
// but is no expression that ends there (path:/api/v1/) could be either:
// it is an error that shows both readings rather than a silent guess.
func lexSlashValue(s string, i int, inPipes bool) (token, int, error) {
	text, end, rerr := lexRegex(s, i)
	if rerr == nil && (end == len(s) || strings.IndexByte(" \t\r\n)|", s[end]) >= 0) {
		return token{kind: tokRegex, text: text, pos: i}, end, nil
	}
	wend := wordEnd(s, i, inPipes)
	word := s[i:wend]
	if len(word) > 1 && word[len(word)-1] == '/' && !escapedAt(word, len(word)-1) {
		regexReading := "an unterminated regular expression"
		if rerr == nil {
			regexReading = fmt.Sprintf("the regular expression /%s/ followed by %q", text, s[end:wend])
		}
		return token{}, 0, newParseError(s, i, "%s", fmt.Sprintf("%s is ambiguous: it reads as %s, or as the value %q; quote the value (\"%s\") or write the expression with \\/ for each '/' inside it", word, regexReading, word, word))
	}
	return token{kind: tokWord, text: word, pos: i, path: true}, wend, nil
}

// escapedAt reports whether s[i] follows an odd number of backslashes.
func escapedAt(s string, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && s[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}

// lexRegex reads the /pattern/ starting at s[start] == '/'. \/ stands for
// a '/' in the pattern; every other escape is the regular expression's own
// and is kept.
func lexRegex(s string, start int) (string, int, error) {
	var b strings.Builder
	for i := start + 1; i < len(s); i++ {
		switch s[i] {
		case '/':
			return b.String(), i + 1, nil
		case '\\':
			if i+1 < len(s) && s[i+1] == '/' {
				i++
			} else if i+1 < len(s) {
				b.WriteByte(s[i])
				i++
			}
		}
		b.WriteByte(s[i])
	}
	return "", 0, newParseError(s, start, "unterminated regular expression: expected a closing '/' (write \\/ for a '/' inside it, or quote a path value like path:\"/api/v1\")")
}
