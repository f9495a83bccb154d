package query

import (
	"math"
	"strconv"
)

// parseNumber parses a field value as a number the way numeric comparisons
// and stats see it: whatever strconv.ParseFloat accepts, except NaN. Text
// that cannot start a number is turned away before ParseFloat, whose error
// value would cost an allocation for every non-numeric value scanned.
func parseNumber(s string) (float64, bool) {
	if s == "" {
		return 0, false
	}
	if f, ok := parseDecimal(s); ok {
		return f, true
	}
	switch c := s[0]; {
	case c >= '0' && c <= '9', c == '+', c == '-', c == '.', c == 'i', c == 'I', c == 'n', c == 'N':
	default:
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// parseDecimal parses the most common numeric field values, plain
// decimals of at most 15 digits such as 200 or 12.345 (status codes,
// latencies, sizes), several times faster than strconv.ParseFloat. Such a
// mantissa and its power of ten are exact in a float64, so one correctly
// rounded division gives ParseFloat's result. ok is false for anything
// else.
func parseDecimal(s string) (float64, bool) {
	if len(s) > 16 {
		return 0, false
	}
	var n int64
	digits, frac, dot := 0, 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			n = n*10 + int64(c-'0')
			digits++
			if dot {
				frac++
			}
		case c == '.' && !dot:
			dot = true
		default:
			return 0, false
		}
	}
	if digits == 0 || digits > 15 {
		return 0, false
	}
	return float64(n) / pow10[frac], true
}

// pow10 holds the powers of ten parseDecimal divides by, all exact.
var pow10 = [16]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}
