package query

import "encoding/binary"

func init() {
	registerStatsFunc("count", func(args []string) (StatsFunc, error) {
		if len(args) != 0 {
			return nil, argError("count takes no arguments: count()")
		}
		return statsCount{}, nil
	})
}

// statsCount is count(): the number of rows in the group.
type statsCount struct{}

func (statsCount) String() string       { return "count()" }
func (statsCount) newState() statsState { return new(countState) }
func (statsCount) fields() []string     { return nil }

type countState float64

func (s *countState) add(Row) int { *s++; return 0 }

func (s *countState) addCount(_ Row, n int) int { *s += countState(n); return 0 }
func (s *countState) result() Value             { return Value{Num: float64(*s), IsNum: true} }

func (s *countState) appendPartial(dst []byte) []byte {
	return binary.AppendUvarint(dst, uint64(*s))
}

func (s *countState) mergePartial(src []byte, _ int64) (int, error) {
	r := wireReader{b: src}
	n := r.uvarint()
	if err := r.end(); err != nil {
		return 0, err
	}
	*s += countState(n)
	return 0, nil
}
