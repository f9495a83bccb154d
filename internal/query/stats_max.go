package query

import "math"

func init() {
	registerStatsFunc("max", func(args []string) (StatsFunc, error) {
		f, err := oneField("max", args)
		return statsMax{Field: f}, err
	})
}

// statsMax is max(field) over the numeric values of the field; with no
// such values it is null.
type statsMax struct{ Field string }

func (f statsMax) String() string   { return callName("max", []string{f.Field}) }
func (f statsMax) fields() []string { return []string{f.Field} }
func (f statsMax) newState() statsState {
	return &extremeState{field: f.Field, v: math.NaN(), better: func(x, cur float64) bool { return x > cur }}
}
