package main

import (
	"math"
	"slices"
	"strconv"
)

// figure is a measured value. NaN means not measured (a phase that did not
// run) and is written to JSON as null, which encoding/json cannot do for a
// float64.
type figure float64

func (f figure) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, v, 'g', -1, 64), nil
}

// median returns the middle of xs (the mean of the two middle values for an
// even count), or NaN for none. A NaN in xs is a run without the figure
// (a p90 of fewer than tailRepeats repeats, say) and is left out: sorted
// in, it would take a place of its own and shift the middle.
func median(xs []float64) float64 {
	s := slices.DeleteFunc(slices.Clone(xs), math.IsNaN)
	if len(s) == 0 {
		return math.NaN()
	}
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

// percentile returns the nearest-rank p-th percentile (0 < p <= 100) of xs,
// an observed value rather than an interpolation, or NaN for none.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[min(max(rank, 1), len(s))-1]
}
