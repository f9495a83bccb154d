package query

import (
	"encoding/binary"
	"math"
)

func init() {
	registerStatsFunc("rate", func(args []string) (StatsFunc, error) {
		if len(args) != 0 {
			return nil, argError("rate takes no arguments: rate()")
		}
		return statsRate{}, nil
	})
}

// statsRate is rate(): rows per second over the group's _time bucket, or
// over the query's time range when it is not grouped by time. Without
// either (stats over stats rows, or a range with no start) it divides by
// the span between the group's first and last record.
type statsRate struct{}

func (statsRate) String() string       { return "rate()" }
func (statsRate) fields() []string     { return nil } // the record time only
func (statsRate) newState() statsState { return &rateState{first: math.MaxInt64, last: math.MinInt64} }

type rateState struct {
	n           float64
	span        float64
	first, last int64
}

func (s *rateState) setSpan(seconds float64) { s.span = seconds }

func (s *rateState) add(r Row) int {
	s.n++
	if t, ok := r.time(); ok {
		s.first, s.last = min(s.first, t), max(s.last, t)
	}
	return 0
}

func (s *rateState) result() Value {
	span := s.span
	if span <= 0 && s.last > s.first {
		span = float64(s.last-s.first) / 1e9
	}
	if span <= 0 {
		return Value{Num: math.NaN(), IsNum: true}
	}
	return Value{Num: s.n / span, IsNum: true}
}

// appendPartial sends the rows counted and the span they cover; the
// querier's own state knows the bucket or the range (setSpan).
func (s *rateState) appendPartial(dst []byte) []byte {
	dst = appendFloat(dst, s.n)
	return binary.AppendVarint(binary.AppendVarint(dst, s.first), s.last)
}

func (s *rateState) mergePartial(src []byte, _ int64) (int, error) {
	r := wireReader{b: src}
	n, first, last := r.float(), r.varint(), r.varint()
	if err := r.end(); err != nil {
		return 0, err
	}
	s.n += n
	s.first, s.last = min(s.first, first), max(s.last, last)
	return 0, nil
}
