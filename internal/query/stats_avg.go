package query

import "math"

func init() {
	registerStatsFunc("avg", func(args []string) (StatsFunc, error) {
		f, err := oneField("avg", args)
		return statsAvg{Field: f}, err
	})
}

// statsAvg is avg(field) over the numeric values of the field; with no
// such values it is null.
type statsAvg struct{ Field string }

func (f statsAvg) String() string       { return callName("avg", []string{f.Field}) }
func (f statsAvg) fields() []string     { return []string{f.Field} }
func (f statsAvg) newState() statsState { return &avgState{field: f.Field} }

type avgState struct {
	field string
	sum   exactSum
	n     float64
}

func (s *avgState) add(r Row) int {
	if x, ok := numericField(r, s.field); ok {
		s.sum.add(x)
		s.n++
	}
	return 0
}

func (s *avgState) result() Value {
	if s.n == 0 {
		return Value{Num: math.NaN(), IsNum: true}
	}
	return Value{Num: s.sum.value() / s.n, IsNum: true}
}

func (s *avgState) appendPartial(dst []byte) []byte {
	return s.sum.appendPartial(appendFloat(dst, s.n))
}

func (s *avgState) mergePartial(src []byte, _ int64) (int, error) {
	r := wireReader{b: src}
	n := r.float()
	var o exactSum
	o.read(&r)
	if err := r.end(); err != nil {
		return 0, err
	}
	s.sum.merge(&o)
	s.n += n
	return 0, nil
}
