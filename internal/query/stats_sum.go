package query

func init() {
	registerStatsFunc("sum", func(args []string) (StatsFunc, error) {
		f, err := oneField("sum", args)
		return statsSum{Field: f}, err
	})
}

// statsSum is sum(field) over the numeric values of the field; values that
// are not numbers are skipped, and no values sum to 0.
type statsSum struct{ Field string }

func (f statsSum) String() string       { return callName("sum", []string{f.Field}) }
func (f statsSum) fields() []string     { return []string{f.Field} }
func (f statsSum) newState() statsState { return &sumState{field: f.Field} }

type sumState struct {
	field string
	sum   exactSum
}

func (s *sumState) add(r Row) int {
	if x, ok := numericField(r, s.field); ok {
		s.sum.add(x)
	}
	return 0
}

func (s *sumState) result() Value { return Value{Num: s.sum.value(), IsNum: true} }

// numericField returns the field as a number when it is one.
func numericField(r Row, field string) (float64, bool) {
	v, ok := r.get(field)
	if !ok {
		return 0, false
	}
	return v.number()
}

func (s *sumState) appendPartial(dst []byte) []byte { return s.sum.appendPartial(dst) }

func (s *sumState) mergePartial(src []byte, _ int64) (int, error) {
	r := wireReader{b: src}
	var o exactSum
	o.read(&r)
	if err := r.end(); err != nil {
		return 0, err
	}
	s.sum.merge(&o)
	return 0, nil
}
