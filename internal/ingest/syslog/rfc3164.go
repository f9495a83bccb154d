package syslog

import (
	"strings"
	"time"
)

// The longest gap into the future that an RFC 3164 time without a year may
// have before it is taken to be last year's (December's lines arriving in
// January), and the longest into the past before it is next year's (a
// sender whose clock or zone is ahead at New Year).
const (
	maxFuture = 31 * 24 * time.Hour
	maxPast   = 334 * 24 * time.Hour
)

// parse3164 parses what follows "<PRI>" in BSD syslog as senders really
// write it:
//
//	Oct 11 22:14:15 host app[123]: msg        the RFC 3164 form
//	Oct 11 22:14:15 app[123]: msg             no hostname (local loggers)
//	Oct 11 2026 22:14:15 host app: msg        with a year
//	2026-10-11T22:14:15.123+02:00 host app: msg  RFC 3339 time (rsyslog)
//	123: *Mar  1 00:01:02.345 UTC: %SYS-5-CONFIG_I: msg  Cisco IOS
//	app: msg                                  no time at all
//
// It never fails: what cannot be read as a header stays in the message.
func parse3164(s string, now time.Time, loc *time.Location) Message {
	m := Message{Format: RFC3164}
	s = skipSequence(s)
	ts, rest, ok := cutTime3164(s, now, loc)
	if ok {
		m.Time = ts
		s = rest
		// Without a hostname the first word is the tag; a word that does
		// not look like one is the hostname.
		if tok, after, _ := strings.Cut(s, " "); tok != "" && !isTag(tok) {
			m.Hostname = tok
			s = after
		}
	}
	if tok, after, _ := strings.Cut(s, " "); isTag(tok) {
		m.AppName, m.ProcID = splitTag(tok)
		s = after
	}
	m.Text = s
	return m
}

// skipSequence drops the sequence number Cisco devices put before the time
// ("123: ").
func skipSequence(s string) string {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i > 0 && strings.HasPrefix(s[i:], ": ") {
		return s[i+2:]
	}
	return s
}

// isTag reports whether tok is a TAG: "app:", "app[pid]:" or "app[pid]".
// A hostname never ends with ':' nor holds '['.
func isTag(tok string) bool {
	if strings.HasSuffix(tok, ":") {
		return len(tok) > 1
	}
	i := strings.IndexByte(tok, '[')
	return i > 0 && strings.HasSuffix(tok, "]")
}

// splitTag splits "app[pid]:" into app and pid.
func splitTag(tok string) (app, pid string) {
	tok = strings.TrimSuffix(tok, ":")
	if i := strings.IndexByte(tok, '['); i > 0 && strings.HasSuffix(tok, "]") {
		return tok[:i], tok[i+1 : len(tok)-1]
	}
	return tok, ""
}
