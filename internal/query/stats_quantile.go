package query

import (
	"math"
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
