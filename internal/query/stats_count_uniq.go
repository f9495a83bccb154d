package query

import (
	"encoding/binary"
	"strings"
)

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

// addCount takes n rows that share the field's value: one is enough. With
// a stream field, the store answers count_uniq from the blocks' stream
// labels, reading no block.
func (s *countUniqState) addCount(r Row, n int) int {
	if n <= 0 {
		return 0
	}
	return s.add(r)
}

func (s *countUniqState) result() Value {
	return Value{Num: float64(len(s.seen)), IsNum: true}
}

// appendPartial sends the distinct values themselves: the merged count
// is exact, and costs what the values weigh.
func (s *countUniqState) appendPartial(dst []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s.seen)))
	for k := range s.seen {
		dst = appendString(dst, k)
	}
	return dst
}

func (s *countUniqState) mergePartial(src []byte, budget int64) (int, error) {
	r := wireReader{b: src}
	vals := make([][]byte, r.count(1))
	for i := range vals {
		vals[i] = r.bytes()
	}
	if err := r.end(); err != nil {
		return 0, err
	}
	var grow int64
	for _, v := range vals {
		if _, dup := s.seen[string(v)]; !dup && len(v) > 0 {
			grow += int64(len(v)) + mapEntryOverhead
		}
	}
	if grow > budget {
		return 0, errPartialBudget
	}
	for _, v := range vals {
		if len(v) > 0 {
			s.seen[string(v)] = struct{}{}
		}
	}
	return int(grow), nil
}
