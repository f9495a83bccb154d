package query

import (
	"math"

	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/store"
)

// rangeFilter serves comparisons and ranges. When every bound is a number it
// compares numerically (field values that do not parse never match);
// otherwise it compares the raw values as strings, byte by byte.
type rangeFilter struct {
	field          string
	numeric        bool
	hasLo, hasHi   bool
	loIncl, hiIncl bool
	loNum, hiNum   float64
	loStr, hiStr   string
}

func newCompareFilter(n Compare) rangeFilter {
	b := Bound{Value: n.Value}
	open := Bound{Unbounded: true}
	switch n.Op {
	case ">":
		return newRangeFilter(n.Field, b, open, false, false)
	case ">=":
		return newRangeFilter(n.Field, b, open, true, false)
	case "<":
		return newRangeFilter(n.Field, open, b, false, false)
	default: // "<=", the parser admits no other operator
		return newRangeFilter(n.Field, open, b, false, true)
	}
}

func newRangeFilter(field string, lo, hi Bound, loIncl, hiIncl bool) rangeFilter {
	f := rangeFilter{
		field: field, hasLo: !lo.Unbounded, hasHi: !hi.Unbounded,
		loIncl: loIncl, hiIncl: hiIncl, loStr: lo.Value, hiStr: hi.Value,
	}
	var loOK, hiOK bool
	f.loNum, loOK = boundNumber(lo)
	f.hiNum, hiOK = boundNumber(hi)
	f.numeric = loOK && hiOK
	return f
}

// boundNumber parses a bound; an unbounded end fits either mode.
func boundNumber(b Bound) (float64, bool) {
	if b.Unbounded {
		return 0, true
	}
	f, ok := parseNumber(b.Value)
	return f, ok && !math.IsInf(f, 0)
}

func (f rangeFilter) Match(r *record.Record) bool {
	v, ok := r.Get(f.field)
	return ok && f.matchValue(v)
}

// matchValue is Match for a record whose field holds v.
func (f rangeFilter) matchValue(v string) bool {
	if !f.numeric {
		return (!f.hasLo || v > f.loStr || f.loIncl && v == f.loStr) &&
			(!f.hasHi || v < f.hiStr || f.hiIncl && v == f.hiStr)
	}
	x, ok := parseNumber(v)
	return ok && f.inNum(x, x)
}

// inNum reports whether the interval [min, max] meets the filter's range.
func (f rangeFilter) inNum(min, max float64) bool {
	return (!f.hasLo || max > f.loNum || f.loIncl && max == f.loNum) &&
		(!f.hasHi || min < f.hiNum || f.hiIncl && min == f.hiNum)
}

func (f rangeFilter) MayMatch(b store.BlockSummary) bool {
	if !indexed(f.field) || f.field == record.MessageField {
		return true
	}
	if !b.MayHaveField(f.field) {
		return false
	}
	if !f.numeric {
		return true
	}
	min, max, ok := b.NumRange(f.field)
	return !ok || f.inNum(min, max)
}
