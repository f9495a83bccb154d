package syslog

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sluice-log/sluice/internal/record"
)

// Format is the syslog dialect a message was written in.
type Format uint8

// The dialects Parse tells apart.
const (
	RFC3164 Format = iota + 1
	RFC5424
)

// Errors of Parse; they are wrapped with details.
var (
	ErrNoPriority = errors.New("no <PRI> at the start of the message")
	ErrRFC5424    = errors.New("malformed RFC 5424 message")
)

// Message is one parsed syslog message. Its strings share the text given to
// Parse, so that a message costs one allocation for its text.
type Message struct {
	Format   Format
	Priority int
	// Time is the message's timestamp in Unix nanoseconds; 0 when it had
	// none or an invalid one.
	Time     int64
	Hostname string
	AppName  string
	ProcID   string
	MsgID    string
	// SD holds the structured data parameters, named sd.<SD-ID>.<PARAM-NAME>.
	SD   []record.Field
	Text string
}

// Facility returns the facility number (0–23).
func (m *Message) Facility() int { return m.Priority >> 3 }

// Severity returns the severity number (0–7).
func (m *Message) Severity() int { return m.Priority & 7 }

// ParseBytes is Parse for a message in a buffer that the caller reuses: it
// copies b once, replacing invalid UTF-8 with U+FFFD, since syslog senders
// pass through whatever bytes programs log.
func ParseBytes(b []byte, now time.Time, loc *time.Location) (Message, error) {
	var s string
	if utf8.Valid(b) {
		s = string(b)
	} else {
		s = strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return Parse(s, now, loc)
}

// Parse parses one syslog message, RFC 5424 when a version number follows
// the PRI and RFC 3164 (BSD syslog, with its common variants) otherwise.
// now is the time of arrival: it decides the year of an RFC 3164 timestamp,
// which has none, and loc is the time zone such timestamps are read in.
func Parse(s string, now time.Time, loc *time.Location) (Message, error) {
	s = strings.TrimRight(s, "\r\n\x00")
	pri, rest, ok := cutPriority(s)
	if !ok {
		return Message{}, fmt.Errorf("%w: starts with %q", ErrNoPriority, quotePrefix(s))
	}
	if v, ok := cutVersion(rest); ok {
		m, err := parse5424(v)
		m.Priority = pri
		return m, err
	}
	m := parse3164(rest, now, loc)
	m.Priority = pri
	return m, nil
}

// cutPriority reads "<PRI>" with PRI of one to three digits, at most 191.
func cutPriority(s string) (int, string, bool) {
	if len(s) < 3 || s[0] != '<' {
		return 0, s, false
	}
	pri := 0
	i := 1
	for ; i < len(s) && i <= 4 && isDigit(s[i]); i++ {
		pri = pri*10 + int(s[i]-'0')
	}
	if i == 1 || i > 4 || i >= len(s) || s[i] != '>' || pri > maxPriority {
		return 0, s, false
	}
	return pri, s[i+1:], true
}

// cutVersion recognises the RFC 5424 VERSION field: a number 1–999
// without a leading zero, followed by a space. An RFC 3164 message starts
// with a month name, an RFC 3339 time (four digits and '-') or its tag.
func cutVersion(s string) (string, bool) {
	if len(s) < 2 || s[0] < '1' || s[0] > '9' {
		return s, false
	}
	i := 1
	for i < len(s) && i < 3 && isDigit(s[i]) {
		i++
	}
	if i >= len(s) || s[i] != ' ' {
		return s, false
	}
	return s[i+1:], true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// quotePrefix bounds what an error quotes of a bad message.
func quotePrefix(s string) string {
	const n = 32
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// validUnixNano reports whether t fits in int64 nanoseconds.
func validUnixNano(t time.Time) bool {
	y := t.Year()
	return y >= 1678 && y <= 2261
}
