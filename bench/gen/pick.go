package gen

import (
	"math"
	"math/rand/v2"
)

// pickerSlots is the resolution of a picker: weights are quantised to
// 1/pickerSlots, which is plenty for shaping a benchmark's data and makes a
// pick one table lookup instead of a search.
const pickerSlots = 4096

// picker draws indexes with fixed relative weights.
type picker struct {
	table [pickerSlots]uint8
}

func newPicker(weights []float64) *picker {
	var total float64
	for _, w := range weights {
		total += w
	}
	p := &picker{}
	cum, idx := weights[0], 0
	for s := range p.table {
		pos := (float64(s) + 0.5) / pickerSlots * total
		for pos > cum && idx < len(weights)-1 {
			idx++
			cum += weights[idx]
		}
		p.table[s] = uint8(idx)
	}
	return p
}

func (p *picker) pick(r *rand.Rand) int {
	return int(p.table[r.Uint32()%pickerSlots])
}

// zipfWeights gives n weights falling off as 1/k^s, so that a few names
// dominate as they do in real fleets.
func zipfWeights(n int, s float64) []float64 {
	w := make([]float64, n)
	for k := range w {
		w[k] = 1 / math.Pow(float64(k+1), s)
	}
	return w
}
