package query

import (
	"encoding/binary"
	"math"
	"slices"
	"sort"
	"strconv"
)

func init() {
	registerStatsFunc("quantile", func(args []string) (StatsFunc, error) {
		if len(args) != 2 {
			return nil, argError("quantile takes a level and a field, as in quantile(0.99, latency_ms)")
		}
		p, err := strconv.ParseFloat(args[0], 64)
		if err != nil || !(p >= 0 && p <= 1) {
			return nil, argError("quantile's level must be a number from 0 to 1, got " + strconv.Quote(args[0]))
		}
		return statsQuantile{P: p, Field: args[1]}, nil
	})
}

// statsQuantile is quantile(p, field): the value below which a fraction p
// of the group's numeric values lie, interpolated linearly between the two
// nearest values. It is exact, so it keeps every value: the aggregation's
// memory bound applies.
type statsQuantile struct {
	P     float64
	Field string
}

func (f statsQuantile) String() string {
	return callName("quantile", []string{strconv.FormatFloat(f.P, 'g', -1, 64), f.Field})
}

func (f statsQuantile) fields() []string     { return []string{f.Field} }
func (f statsQuantile) newState() statsState { return &quantileState{f: f} }

type quantileState struct {
	f    statsQuantile
	vals []float64
}

func (s *quantileState) add(r Row) int {
	if x, ok := numericField(r, s.f.Field); ok {
		s.vals = append(s.vals, x)
		return 8
	}
	return 0
}

func (s *quantileState) result() Value {
	if len(s.vals) == 0 {
		return Value{Num: math.NaN(), IsNum: true}
	}
	sort.Float64s(s.vals)
	pos := s.f.P * float64(len(s.vals)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(s.vals)-1)
	frac := pos - float64(lo)
	return Value{Num: s.vals[lo] + frac*(s.vals[hi]-s.vals[lo]), IsNum: true}
}

// appendPartial sends every value, sorted, as runs of equal values
// (value, how many): exact, and small for fields such as latencies or
// status codes whose values repeat.
func (s *quantileState) appendPartial(dst []byte) []byte {
	sort.Float64s(s.vals)
	runs := 0
	for i := range s.vals {
		if i == 0 || !sameFloat(s.vals[i], s.vals[i-1]) {
			runs++
		}
	}
	dst = binary.AppendUvarint(dst, uint64(runs))
	for i := 0; i < len(s.vals); {
		j := i + 1
		for j < len(s.vals) && sameFloat(s.vals[j], s.vals[i]) {
			j++
		}
		dst = binary.AppendUvarint(appendFloat(dst, s.vals[i]), uint64(j-i))
		i = j
	}
	return dst
}

// sameFloat is equality that also holds between two NaNs, so that runs
// of them are kept.
func sameFloat(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }

func (s *quantileState) mergePartial(src []byte, budget int64) (int, error) {
	r := wireReader{b: src}
	runs := r.count(9)
	limit := uint64(max(budget, 0) / 8)
	var total uint64
	for range runs {
		r.float()
		n := r.uvarint()
		if n == 0 {
			r.fail("empty run")
		}
		if n > limit-total {
			return 0, errPartialBudget
		}
		total += n
	}
	if err := r.end(); err != nil {
		return 0, err
	}
	s.vals = slices.Grow(s.vals, int(total))
	r = wireReader{b: src}
	r.uvarint()
	for range runs {
		x, n := r.float(), r.uvarint()
		for range n {
			s.vals = append(s.vals, x)
		}
	}
	return int(total) * 8, nil
}
