package query

func init() {
	registerStatsFunc("count_uniq", func(args []string) (StatsFunc, error) {
		f, err := oneField("count_uniq", args)
		return statsCountUniq{Field: f}, err
	})
}

// statsCountUniq is count_uniq(field): the number of distinct non-empty
// values of the field in the group.
type statsCountUniq struct{ Field string }

func (f statsCountUniq) String() string { return callName("count_uniq", []string{f.Field}) }
func (f statsCountUniq) newState() statsState {
	return &countUniqState{field: f.Field, seen: map[string]struct{}{}}
}

type countUniqState struct {
	field string
	seen  map[string]struct{}
}

func (s *countUniqState) add(r Row) {
	if v, ok := r.get(s.field); ok {
		if k := v.String(); k != "" {
			if _, dup := s.seen[k]; !dup {
				s.seen[k] = struct{}{}
			}
		}
	}
}

func (s *countUniqState) result() Value {
	return Value{Num: float64(len(s.seen)), IsNum: true}
}
