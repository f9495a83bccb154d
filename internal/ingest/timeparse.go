package ingest

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// TimeFormats describes what ParseTime accepts, for error messages.
const TimeFormats = "RFC 3339 with any offset (2006-01-02T15:04:05.999Z07:00), " +
	"2006-01-02 15:04:05[.frac] or 2006-01-02T15:04:05[.frac] as UTC, " +
	"or a Unix time in seconds, milliseconds, microseconds or nanoseconds"

// Unix times are told apart by magnitude: 1e11 seconds is the year 5138 and
// 1e11 milliseconds is 1973, so no timestamp of interest is ambiguous.
const (
	maxUnixSeconds = 1e11
	maxUnixMillis  = 1e14
	maxUnixMicros  = 1e17
)

// The years that Unix nanoseconds in an int64 can hold.
const (
	minYear = 1678
	maxYear = 2261
)

// ParseTime parses a timestamp in one of TimeFormats and returns it in Unix
// nanoseconds.
func ParseTime(s string) (int64, bool) {
	if isDateTime(s) {
		return parseDateTime(s)
	}
	return parseUnix(s)
}

func isDateTime(s string) bool {
	return len(s) >= len("2006-01-02T15:04:05") && s[4] == '-' && s[7] == '-' &&
		(s[10] == 'T' || s[10] == ' ')
}

func parseDateTime(s string) (int64, bool) {
	if ns, ok := parseUTCFast(s); ok {
		return ns, true
	}
	var layout string
	switch {
	case s[10] == 'T' && hasZone(s):
		layout = time.RFC3339Nano
	case s[10] == 'T':
		layout = "2006-01-02T15:04:05"
	case hasZone(s):
		layout = "2006-01-02 15:04:05Z07:00"
	default:
		layout = "2006-01-02 15:04:05"
	}
	// Go accepts a fraction after the seconds even when the layout has none.
	t, err := time.ParseInLocation(layout, s, time.UTC)
	if err != nil || t.Year() < minYear || t.Year() > maxYear {
		return 0, false
	}
	return t.UnixNano(), true
}

// hasZone reports whether s ends in "Z" or a "±hh:mm" offset.
func hasZone(s string) bool {
	if s[len(s)-1] == 'Z' {
		return true
	}
	n := len(s) - len("+00:00")
	return n > len("2006-01-02T15:04:05")-1 && (s[n] == '+' || s[n] == '-') && s[n+3] == ':'
}

// parseUnix parses a decimal Unix time exactly (a float64 would lose the
// nanoseconds of current times); only exponent notation goes through floats.
func parseUnix(s string) (int64, bool) {
	if strings.ContainsAny(s, "eE") {
		return parseUnixFloat(s)
	}
	neg := false
	rest := s
	if rest != "" && (rest[0] == '-' || rest[0] == '+') {
		neg = rest[0] == '-'
		rest = rest[1:]
	}
	intPart, frac, _ := strings.Cut(rest, ".")
	if intPart == "" && frac == "" || !allDigits(intPart) || !allDigits(frac) {
		return 0, false
	}
	whole := uint64(0)
	if intPart != "" {
		var err error
		if whole, err = strconv.ParseUint(intPart, 10, 64); err != nil {
			return 0, false
		}
	}
	unit, fracDigits := unixUnit(float64(whole))
	if whole > math.MaxInt64/unit {
		return 0, false
	}
	ns := whole * unit
	f := uint64(0)
	for i := range fracDigits {
		f *= 10
		if i < len(frac) {
			f += uint64(frac[i] - '0')
		}
	}
	if ns > math.MaxInt64-f {
		return 0, false
	}
	ns += f
	if neg {
		return -int64(ns), true
	}
	return int64(ns), true
}

func parseUnixFloat(s string) (int64, bool) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	unit, _ := unixUnit(math.Abs(v))
	ns := v * float64(unit)
	// 2^63 is exactly representable; anything at or past it overflows.
	if ns >= math.MaxInt64 || ns < math.MinInt64 {
		return 0, false
	}
	return int64(ns), true
}

// unixUnit returns the nanoseconds in one unit of a Unix time of magnitude v
// and the number of fraction digits that unit can carry.
func unixUnit(v float64) (uint64, int) {
	switch {
	case v < maxUnixSeconds:
		return 1e9, 9
	case v < maxUnixMillis:
		return 1e6, 6
	case v < maxUnixMicros:
		return 1e3, 3
	default:
		return 1, 0
	}
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseUTCFast parses the form most shippers write,
// 2006-01-02T15:04:05[.1-9 digits]Z, as time.Parse would, without its
// generality (time.Parse took 7% of the JSON lines handler's CPU on the
// bench data). It returns false for anything else, valid or not, which
// parseDateTime then hands to time.Parse, so that time.Parse decides every
// other case, errors included.
func parseUTCFast(s string) (int64, bool) {
	n := len(s)
	if n < len("2006-01-02T15:04:05Z") || n > len("2006-01-02T15:04:05.999999999Z") || s[n-1] != 'Z' ||
		s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return 0, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 ||
		year < minYear || year > maxYear || month < 1 || month > 12 ||
		day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 59 {
		return 0, false
	}
	// time.Date does the calendar; it carries a day past the month's
	// end into the next month, which time.Parse refuses.
	t := time.Date(int(year), time.Month(month), int(day), int(hour), int(minute), int(sec), 0, time.UTC)
	if t.Day() != int(day) {
		return 0, false
	}
	var frac int64
	if n > len("2006-01-02T15:04:05Z") {
		// A fraction of 1 to 9 digits.
		f := s[19 : n-1]
		if f[0] != '.' || len(f) < 2 {
			return 0, false
		}
		v, ok := digits(f[1:])
		if !ok {
			return 0, false
		}
		for range 10 - len(f) {
			v *= 10
		}
		frac = v
	}
	return t.Unix()*1e9 + frac, true
}

// digits parses s, of decimal digits only, as a number.
func digits(s string) (int64, bool) {
	var v int64
	for i := 0; i < len(s); i++ {
		c := s[i] - '0'
		if c > 9 {
			return 0, false
		}
		v = v*10 + int64(c)
	}
	return v, true
}
