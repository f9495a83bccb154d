package query

import (
	"math"
	"math/big"
	"math/rand"
	"testing"
)

// TestExactSum checks exactSum against math/big: the exact sum, rounded
// once to the nearest float64 (ties to even), in any order of additions
// and merges.
func TestExactSum(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	sets := [][]float64{
		{},
		{0.1, 0.2, 0.3},
		{1e16, 1, -1e16},
		{0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1},
		{1, 1e-16, 1e-16},           // a halfway case
		{math.Inf(1), 5, 7},         // infinities win
		{math.Inf(1), math.Inf(-1)}, // and cancel to NaN
		{math.Copysign(0, -1), 3.5, -3.5},
	}
	for range 50 {
		xs := make([]float64, 1+rng.Intn(60))
		for i := range xs {
			xs[i] = rng.NormFloat64() * math.Pow(10, float64(rng.Intn(40)-20))
			if rng.Intn(5) == 0 {
				xs[i] = float64(rng.Intn(2000)) / 1000 // decimals like latencies
			}
		}
		sets = append(sets, xs)
	}
	// Beyond float64's range on the way, the sum is infinite, not NaN.
	var over exactSum
	for _, x := range []float64{1e308, 1e308, -1e308} {
		over.add(x)
	}
	if v := over.value(); !math.IsInf(v, 1) {
		t.Errorf("overflowing sum: %v, want +Inf", v)
	}
	for _, xs := range sets {
		want := bigSum(xs)
		for trial := range 4 {
			perm := rng.Perm(len(xs))
			// Split in parts, sum each, merge.
			var total exactSum
			var part exactSum
			for i, j := range perm {
				part.add(xs[j])
				if rng.Intn(4) == 0 || i == len(perm)-1 {
					total.merge(&part)
					part = exactSum{}
				}
			}
			got := total.value()
			if !(got == want || math.IsNaN(got) && math.IsNaN(want)) || math.Signbit(got) != math.Signbit(want) && got != 0 {
				t.Errorf("%v (trial %d): %v, want %v", xs, trial, got, want)
			}
		}
	}
}

func bigSum(xs []float64) float64 {
	special := 0.0
	sum := new(big.Float).SetPrec(4096)
	for _, x := range xs {
		if math.IsInf(x, 0) || math.IsNaN(x) {
			special += x
			continue
		}
		sum.Add(sum, new(big.Float).SetPrec(4096).SetFloat64(x))
	}
	if special != 0 || math.IsNaN(special) {
		return special
	}
	f, _ := sum.Float64()
	return f
}
