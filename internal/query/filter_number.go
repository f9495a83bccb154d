package query

import "github.com/sluice-log/sluice/internal/store"

// The numeric filters answer store.NumberFilter: a numeric comparison
// reads its field as the float64 parseNumber gives, so the store may hand
// it the numbers of a decimal column instead of their text.

var (
	_ store.NumberFilter = rangeFilter{}
	_ store.NumberFilter = notFilter{}
)

func (f rangeFilter) NumbersOnly() bool { return f.numeric }

func (f rangeFilter) MatchNumbers(xs []float64, match []bool) {
	for i, x := range xs {
		match[i] = f.inNum(x, x)
	}
}

func (f notFilter) NumbersOnly() bool {
	nf, ok := f.child.(store.NumberFilter)
	return ok && nf.NumbersOnly()
}

func (f notFilter) MatchNumbers(xs []float64, match []bool) {
	f.child.(store.NumberFilter).MatchNumbers(xs, match)
	for i := range match {
		match[i] = !match[i]
	}
}
