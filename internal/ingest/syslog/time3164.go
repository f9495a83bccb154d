package syslog

import (
	"strings"
	"time"
)

var months = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// cutTime3164 reads the timestamp at the start of s and returns it in Unix
// nanoseconds with the rest after the following space. Accepted: an RFC
// 3339 time, or "Mmm dd [yyyy] hh:mm:ss[.frac]" with an optional Cisco "*"
// or "." before it and an optional zone abbreviation and ':' after it. A
// time that has the right shape but impossible values is consumed and
// reported as 0, so the record gets its time of arrival.
func cutTime3164(s string, now time.Time, loc *time.Location) (int64, string, bool) {
	if len(s) >= 19 && isDigit(s[0]) && s[4] == '-' && s[7] == '-' && s[10] == 'T' {
		tok, rest, _ := strings.Cut(s, " ")
		t, err := time.Parse(time.RFC3339Nano, tok)
		if err != nil || !validUnixNano(t) {
			return 0, rest, true
		}
		return t.UnixNano(), rest, true
	}
	if strings.HasPrefix(s, "*") || strings.HasPrefix(s, ".") {
		s = s[1:]
	}
	if len(s) < len("Jan 2 15:04:05") || s[3] != ' ' {
		return 0, s, false
	}
	month := 0
	for i, name := range months {
		if s[:3] == name {
			month = i + 1
		}
	}
	if month == 0 {
		return 0, s, false
	}
	p := &scanner{s: s[4:]}
	if p.peek(' ') { // "Oct  1": the day is padded with a space
		p.s = p.s[1:]
	}
	day := p.number(1, 2)
	if !p.skip(' ') {
		return 0, s, false
	}
	year := 0
	if len(p.s) > 4 && p.s[4] == ' ' {
		year = p.number(4, 4)
		p.skip(' ')
	}
	hour := p.number(2, 2)
	ok := p.skip(':')
	minute := p.number(2, 2)
	ok = ok && p.skip(':')
	sec := p.number(2, 2)
	if !ok || p.bad {
		return 0, s, false
	}
	nsec := 0
	if p.peek('.') {
		p.s = p.s[1:]
		nsec = p.fraction()
	}
	zone := loc
	// Cisco: "00:01:02.345 UTC: %SYS…". Only zones that name UTC are
	// trusted; other abbreviations are ambiguous and read in loc.
	if tok, after, _ := strings.Cut(strings.TrimPrefix(p.s, " "), " "); p.peek(' ') &&
		strings.HasSuffix(tok, ":") && isZoneName(tok[:len(tok)-1]) {
		if z := tok[:len(tok)-1]; z == "UTC" || z == "GMT" {
			zone = time.UTC
		}
		p.s = " " + after
	} else {
		p.s = strings.TrimPrefix(p.s, ":")
	}
	switch {
	case p.s == "":
	case p.s[0] == ' ':
		p.s = p.s[1:]
	default:
		return 0, s, false
	}
	if day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 60 {
		return 0, p.s, true
	}
	ts := timeIn(year, month, day, hour, minute, sec, nsec, now, zone)
	if ts.Day() != day || !validUnixNano(ts) {
		return 0, p.s, true
	}
	return ts.UnixNano(), p.s, true
}

// timeIn builds the time; without a year it takes the one that puts the
// time nearest to now (see maxFuture and maxPast).
func timeIn(year, month, day, hour, minute, sec, nsec int, now time.Time, loc *time.Location) time.Time {
	if year != 0 {
		return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc)
	}
	year = now.In(loc).Year()
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc)
	switch {
	case t.Sub(now) > maxFuture:
		t = time.Date(year-1, time.Month(month), day, hour, minute, sec, nsec, loc)
	case now.Sub(t) > maxPast:
		t = time.Date(year+1, time.Month(month), day, hour, minute, sec, nsec, loc)
	}
	return t
}

func isZoneName(s string) bool {
	if len(s) < 3 || len(s) > 5 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// scanner reads fixed-width numbers; bad is set once anything does not fit.
type scanner struct {
	s   string
	bad bool
}

func (p *scanner) peek(c byte) bool { return p.s != "" && p.s[0] == c }

func (p *scanner) skip(c byte) bool {
	if !p.peek(c) {
		p.bad = true
		return false
	}
	p.s = p.s[1:]
	return true
}

// number reads min to max digits.
func (p *scanner) number(minDigits, maxDigits int) int {
	n, i := 0, 0
	for ; i < maxDigits && i < len(p.s) && isDigit(p.s[i]); i++ {
		n = n*10 + int(p.s[i]-'0')
	}
	if i < minDigits {
		p.bad = true
	}
	p.s = p.s[i:]
	return n
}

// fraction reads fractional-second digits as nanoseconds (up to 9 count).
func (p *scanner) fraction() int {
	n, i := 0, 0
	for ; i < len(p.s) && isDigit(p.s[i]); i++ {
		if i < 9 {
			n = n*10 + int(p.s[i]-'0')
		}
	}
	for d := i; d < 9; d++ {
		n *= 10
	}
	p.s = p.s[i:]
	return n
}
