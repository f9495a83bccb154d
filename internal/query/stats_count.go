package query

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

func (s *countState) add(Row) int   { *s++; return 0 }
func (s *countState) result() Value { return Value{Num: float64(*s), IsNum: true} }
