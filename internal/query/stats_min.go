package query

import "math"

func init() {
	registerStatsFunc("min", func(args []string) (StatsFunc, error) {
		f, err := oneField("min", args)
		return statsMin{Field: f}, err
	})
}

// statsMin is min(field) over the numeric values of the field; with no
// such values it is null.
type statsMin struct{ Field string }

func (f statsMin) String() string   { return callName("min", []string{f.Field}) }
func (f statsMin) fields() []string { return []string{f.Field} }
func (f statsMin) newState() statsState {
	return &extremeState{field: f.Field, v: math.NaN(), better: func(x, cur float64) bool { return x < cur }}
}

// extremeState keeps the least or greatest value, as better decides; NaN
// means none yet.
type extremeState struct {
	field  string
	v      float64
	better func(x, cur float64) bool
}

func (s *extremeState) add(r Row) int {
	if x, ok := numericField(r, s.field); ok && (math.IsNaN(s.v) || s.better(x, s.v)) {
		s.v = x
	}
	return 0
}

func (s *extremeState) result() Value { return Value{Num: s.v, IsNum: true} }

func (s *extremeState) appendPartial(dst []byte) []byte { return appendFloat(dst, s.v) }

// mergePartial takes the other state's value when it is better; NaN is
// a state without values.
func (s *extremeState) mergePartial(src []byte, _ int64) (int, error) {
	r := wireReader{b: src}
	x := r.float()
	if err := r.end(); err != nil {
		return 0, err
	}
	if !math.IsNaN(x) && (math.IsNaN(s.v) || s.better(x, s.v)) {
		s.v = x
	}
	return 0, nil
}
