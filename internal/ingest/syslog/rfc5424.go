package syslog

import (
	"fmt"
	"strings"
	"time"

	"github.com/sluice-log/sluice/internal/record"
)

// nilValue is RFC 5424's "-": the field has no value.
const nilValue = "-"

// bom is the UTF-8 byte order mark that RFC 5424 lets MSG start with.
const bom = "\xEF\xBB\xBF"

// parse5424 parses what follows "<PRI>VERSION ": TIMESTAMP HOSTNAME
// APP-NAME PROCID MSGID STRUCTURED-DATA [MSG]. An unreadable timestamp is
// not fatal (the time of arrival is used); a broken header or structured
// data is, since the message's fields cannot be told apart.
func parse5424(s string) (Message, error) {
	m := Message{Format: RFC5424}
	var hdr [5]string
	for i := range hdr {
		tok, rest, ok := strings.Cut(s, " ")
		if !ok {
			return Message{}, fmt.Errorf("%w: header ends after %d of 5 fields", ErrRFC5424, i)
		}
		if tok == "" {
			return Message{}, fmt.Errorf("%w: empty header field %d (two spaces in a row)", ErrRFC5424, i+1)
		}
		if tok != nilValue {
			hdr[i] = tok
		}
		s = rest
	}
	if hdr[0] != "" {
		if t, err := time.Parse(time.RFC3339Nano, hdr[0]); err == nil && validUnixNano(t) {
			m.Time = t.UnixNano()
		}
	}
	m.Hostname, m.AppName, m.ProcID, m.MsgID = hdr[1], hdr[2], hdr[3], hdr[4]

	rest, err := m.parseSD(s)
	if err != nil {
		return Message{}, err
	}
	switch {
	case rest == "":
	case rest[0] == ' ':
		m.Text = strings.TrimPrefix(rest[1:], bom)
	default:
		return Message{}, fmt.Errorf("%w: structured data is followed by %q instead of a space", ErrRFC5424, quotePrefix(rest))
	}
	return m, nil
}

// parseSD parses STRUCTURED-DATA: "-" or one or more
// [SD-ID PARAM="VALUE" …] elements. It returns what follows.
func (m *Message) parseSD(s string) (string, error) {
	if strings.HasPrefix(s, nilValue) {
		return s[1:], nil
	}
	if !strings.HasPrefix(s, "[") {
		return "", fmt.Errorf("%w: structured data must be - or start with [, got %q", ErrRFC5424, quotePrefix(s))
	}
	for strings.HasPrefix(s, "[") {
		end := sdNameEnd(s, 1)
		if end == 1 {
			return "", fmt.Errorf("%w: empty SD-ID", ErrRFC5424)
		}
		id := s[1:end]
		s = s[end:]
		for {
			if s == "" {
				return "", fmt.Errorf("%w: structured data element %q is not closed with ]", ErrRFC5424, id)
			}
			if s[0] == ']' {
				s = s[1:]
				break
			}
			if s[0] != ' ' {
				return "", fmt.Errorf("%w: unexpected %q in structured data element %q", ErrRFC5424, s[0], id)
			}
			var err error
			if s, err = m.parseParam(id, s[1:]); err != nil {
				return "", err
			}
		}
	}
	return s, nil
}

// parseParam parses PARAM-NAME="PARAM-VALUE" of element id.
func (m *Message) parseParam(id, s string) (string, error) {
	end := sdNameEnd(s, 0)
	if end == 0 || end+1 >= len(s) || s[end] != '=' || s[end+1] != '"' {
		return "", fmt.Errorf("%w: expected PARAM-NAME=\"VALUE\" in element %q, got %q", ErrRFC5424, id, quotePrefix(s))
	}
	name := s[:end]
	s = s[end+2:]
	escaped := false
	i := 0
	for ; i < len(s) && s[i] != '"'; i++ {
		if s[i] == '\\' && i+1 < len(s) {
			escaped = true
			i++
		}
	}
	if i == len(s) {
		return "", fmt.Errorf("%w: value of %s.%s is not closed with \"", ErrRFC5424, id, name)
	}
	value := s[:i]
	if escaped {
		value = unescapeSD(value)
	}
	m.setSD("sd."+id+"."+name, value)
	return s[i+1:], nil
}

// setSD adds a parameter; a repeated name keeps its last value, since a
// record's field names are unique.
func (m *Message) setSD(name, value string) {
	for i := range m.SD {
		if m.SD[i].Name == name {
			m.SD[i].Value = value
			return
		}
	}
	m.SD = append(m.SD, record.Field{Name: name, Value: value})
}

// sdNameEnd returns the end of the SD-NAME starting at s[i]: printable
// US-ASCII except '=', space, ']' and '"'.
func sdNameEnd(s string, i int) int {
	for ; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 127 || c == '=' || c == ']' || c == '"' {
			break
		}
	}
	return i
}

// unescapeSD resolves \" \\ and \]; RFC 5424 says a backslash before any
// other character is kept as it is.
func unescapeSD(v string) string {
	var b strings.Builder
	b.Grow(len(v))
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			switch v[i+1] {
			case '"', '\\', ']':
				i++
			}
		}
		b.WriteByte(v[i])
	}
	return b.String()
}
