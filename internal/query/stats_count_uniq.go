package query

import "strings"

func init() {
	registerStatsFunc("count_uniq", func(args []string) (StatsFunc, error) {
		f, err := oneField("count_uniq", args)
		return statsCountUniq{Field: f}, err
	})
}

// statsCountUniq is count_uniq(field): the number of distinct non-empty
// values of the field in the group.
type statsCountUniq struct{ Field string }

func (f statsCountUniq) String() string   { return callName("count_uniq", []string{f.Field}) }
func (f statsCountUniq) fields() []string { return []string{f.Field} }
func (f statsCountUniq) newState() statsState {
	return &countUniqState{field: f.Field, seen: map[string]struct{}{}}
}

type countUniqState struct {
	field string
	seen  map[string]struct{}
}

func (s *countUniqState) add(r Row) int {
	if v, ok := r.get(s.field); ok {
		if k := v.String(); k != "" {
			if _, dup := s.seen[k]; !dup {
				// The record's strings may be reused once the row is gone.
				s.seen[strings.Clone(k)] = struct{}{}
				return len(k) + mapEntryOverhead
			}
		}
	}
	return 0
}

func (s *countUniqState) result() Value {
	return Value{Num: float64(len(s.seen)), IsNum: true}
}
