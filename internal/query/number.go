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
