package query

func init() {
	registerStatsFunc("sum_len", func(args []string) (StatsFunc, error) {
		f, err := oneField("sum_len", args)
		return statsSumLen{Field: f}, err
	})
}

// statsSumLen is sum_len(field): the bytes of the field's values added up
// (a missing field counts 0), what Loki's bytes_over_time counts of lines.
type statsSumLen struct{ Field string }

func (f statsSumLen) String() string       { return callName("sum_len", []string{f.Field}) }
func (f statsSumLen) fields() []string     { return []string{f.Field} }
func (f statsSumLen) newState() statsState { return &sumLenState{field: f.Field} }

// sumLenState keeps its sum as sum(field) does, so that indexers' partial
// answers merge the same way.
type sumLenState struct {
	field string
	sumState
}

func (s *sumLenState) add(r Row) int {
	if v, ok := r.get(s.field); ok {
		s.sum.add(float64(len(v.String())))
	}
	return 0
}
