package loki

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/sluice-log/sluice/internal/record"
)

// ErrLabels is the reason for a label set that cannot be parsed.
var ErrLabels = errors.New("invalid label set")

// ParseLabels parses a label set in Prometheus' text form, as Loki's
// StreamAdapter.labels carries it: {name="value", other="v"}. Values are
// double-quoted with Go escapes (\" \\ \n \t \xNN \u1234 …); a trailing
// comma and spaces between tokens are allowed; names must be unique and
// match [a-zA-Z_][a-zA-Z0-9_]*. The labels come back sorted by name.
func ParseLabels(s string) ([]record.Field, error) {
	p := labelParser{s: s}
	labels, err := p.parse()
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrLabels, quoteLimit(s), err)
	}
	record.SortStream(labels)
	for i := 1; i < len(labels); i++ {
		if labels[i].Name == labels[i-1].Name {
			return nil, fmt.Errorf("%w %s: label %q appears twice", ErrLabels, quoteLimit(s), labels[i].Name)
		}
	}
	return labels, nil
}

type labelParser struct {
	s   string
	pos int
}

func (p *labelParser) parse() ([]record.Field, error) {
	p.space()
	if !p.eat('{') {
		return nil, p.errorf("want '{'")
	}
	var labels []record.Field
	for {
		p.space()
		if p.eat('}') {
			break
		}
		name, err := p.name()
		if err != nil {
			return nil, err
		}
		p.space()
		if !p.eat('=') {
			return nil, p.errorf("want '=' after label %q", name)
		}
		p.space()
		value, err := p.quoted()
		if err != nil {
			return nil, err
		}
		labels = append(labels, record.Field{Name: name, Value: value})
		p.space()
		if p.eat(',') {
			continue
		}
		if p.eat('}') {
			break
		}
		return nil, p.errorf("want ',' or '}'")
	}
	p.space()
	if p.pos != len(p.s) {
		return nil, p.errorf("unexpected text after '}'")
	}
	return labels, nil
}

func (p *labelParser) errorf(format string, args ...any) error {
	return fmt.Errorf("at offset %d: %s", p.pos, fmt.Sprintf(format, args...))
}

func (p *labelParser) space() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t' || p.s[p.pos] == '\n' || p.s[p.pos] == '\r') {
		p.pos++
	}
}

func (p *labelParser) eat(c byte) bool {
	if p.pos < len(p.s) && p.s[p.pos] == c {
		p.pos++
		return true
	}
	return false
}

func (p *labelParser) name() (string, error) {
	start := p.pos
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || p.pos > start && c >= '0' && c <= '9' {
			p.pos++
			continue
		}
		break
	}
	if p.pos == start {
		return "", p.errorf("want a label name")
	}
	return p.s[start:p.pos], nil
}

// quoted reads a double-quoted value with Go escapes.
func (p *labelParser) quoted() (string, error) {
	if !p.eat('"') {
		return "", p.errorf("want '\"' to open a label value")
	}
	start := p.pos
	// The common value has no escapes and is a substring of the input.
	if i := strings.IndexAny(p.s[start:], "\"\\\n"); i >= 0 && p.s[start+i] == '"' {
		p.pos = start + i + 1
		return strings.ToValidUTF8(p.s[start:start+i], "\uFFFD"), nil
	}
	var b strings.Builder
	rest := p.s[start:]
	for {
		if rest == "" {
			p.pos = len(p.s)
			return "", p.errorf("unterminated label value")
		}
		if rest[0] == '"' {
			p.pos = len(p.s) - len(rest) + 1
			// \xNN escapes can spell invalid UTF-8.
			return strings.ToValidUTF8(b.String(), "\uFFFD"), nil
		}
		if rest[0] == '\n' {
			p.pos = len(p.s) - len(rest)
			return "", p.errorf("newline in label value")
		}
		r, multibyte, tail, err := strconv.UnquoteChar(rest, '"')
		if err != nil {
			p.pos = len(p.s) - len(rest)
			return "", p.errorf("bad escape in label value: %v", err)
		}
		if multibyte {
			b.WriteRune(r)
		} else {
			b.WriteByte(byte(r))
		}
		rest = tail
	}
}

// maxQuoted bounds how much of a bad label set an error quotes.
const maxQuoted = 128

func quoteLimit(s string) string {
	if len(s) > maxQuoted {
		s = s[:maxQuoted] + "…"
	}
	return strconv.Quote(s)
}
