package query

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DateMath reads a time relative to now as Elasticsearch and Grafana write
// it: "now" followed by any number of steps, each "+<n><unit>" or
// "-<n><unit>" (add or subtract) or "/<unit>" (round to the start of the
// unit, in UTC). Units: ms, s, m, h, H (hours), d, w (weeks starting on
// Monday), M (months), y. With roundUp a rounding goes to the end of the
// unit instead, as an upper bound is read (Grafana's "to", Elasticsearch's
// lte); Sluice's upper bounds exclude their end, so that is the start of
// the next unit: to=now/d is the end of today. ok is false when s does not
// start with "now".
func DateMath(s string, now time.Time, roundUp bool) (t time.Time, ok bool, err error) {
	rest, ok := strings.CutPrefix(s, "now")
	if !ok {
		return time.Time{}, false, nil
	}
	t = now.UTC()
	for rest != "" {
		op := rest[0]
		rest = rest[1:]
		switch op {
		case '+', '-':
			i := 0
			for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
				i++
			}
			n, perr := strconv.Atoi(rest[:i])
			unit, ulen := dateUnit(rest[i:])
			if i == 0 || perr != nil || ulen == 0 || n > 1_000_000 {
				return t, true, dateMathError(s)
			}
			if op == '-' {
				n = -n
			}
			t = addUnit(t, n, unit)
			rest = rest[i+ulen:]
		case '/':
			unit, ulen := dateUnit(rest)
			if ulen == 0 {
				return t, true, dateMathError(s)
			}
			t = roundUnit(t, unit, roundUp)
			rest = rest[ulen:]
		default:
			return t, true, dateMathError(s)
		}
	}
	return t, true, nil
}

func dateMathError(s string) error {
	return fmt.Errorf("invalid relative time %q: expected now followed by steps like -1h, +30m or /d (units ms, s, m, h, d, w, M, y), as in now-1d/d", s)
}

// dateUnit reads the unit at the start of s and its length (0: none).
func dateUnit(s string) (string, int) {
	if strings.HasPrefix(s, "ms") {
		return "ms", 2
	}
	if s != "" && strings.IndexByte("smhHdwMy", s[0]) >= 0 {
		return s[:1], 1
	}
	return "", 0
}

func addUnit(t time.Time, n int, unit string) time.Time {
	switch unit {
	case "ms":
		return t.Add(time.Duration(n) * time.Millisecond)
	case "s":
		return t.Add(time.Duration(n) * time.Second)
	case "m":
		return t.Add(time.Duration(n) * time.Minute)
	case "h", "H":
		return t.Add(time.Duration(n) * time.Hour)
	case "d":
		return t.AddDate(0, 0, n)
	case "w":
		return t.AddDate(0, 0, 7*n)
	case "M":
		return t.AddDate(0, n, 0)
	}
	return t.AddDate(n, 0, 0)
}

func roundUnit(t time.Time, unit string, up bool) time.Time {
	var start time.Time
	y, mo, d := t.Date()
	switch unit {
	case "ms", "s", "m", "h", "H":
		step := map[string]time.Duration{"ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour, "H": time.Hour}[unit]
		start = t.Truncate(step)
		if up {
			return start.Add(step)
		}
		return start
	case "d":
		start = time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
	case "w":
		start = time.Date(y, mo, d-(int(t.Weekday())+6)%7, 0, 0, 0, 0, time.UTC)
	case "M":
		start = time.Date(y, mo, 1, 0, 0, 0, 0, time.UTC)
	default:
		start = time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if up {
		return addUnit(start, 1, unit)
	}
	return start
}
