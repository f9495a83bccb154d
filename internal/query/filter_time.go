package query

import (
	"fmt"
	"time"

	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/store"
)

// Ranges and comparisons on _time compare the record's time, not its text.
// Their bounds are RFC 3339 times (2024-05-01T10:00:00Z), days
// (2024-05-01, UTC midnight) or times relative to the query's start (now,
// now-1h, now+15m, now-1d/d: DateMath, rounding down). A top-level _time condition also narrows the time range
// the store searches, so that partitions outside it are never opened.

// parseTimeValue reads a _time bound, relative to now.
func parseTimeValue(s string, now time.Time) (int64, error) {
	if t, ok, err := DateMath(s, now, false); ok {
		if err != nil {
			return 0, err
		}
		return t.UnixNano(), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UnixNano(), nil
		}
	}
	return 0, fmt.Errorf("invalid time %q: expected an RFC 3339 time like 2024-05-01T10:00:00Z, a day like 2024-05-01, now-1h, now+1h or now-1d/d", s)
}

// timeFilter selects records with from <= time < to.
type timeFilter struct {
	from, to int64
}

// newTimeFilter resolves a range on _time; the parser has checked the
// bounds.
func newTimeFilter(lo, hi Bound, loIncl, hiIncl bool, now time.Time) timeFilter {
	f := timeFilter{from: minTime, to: maxTime}
	if !lo.Unbounded {
		f.from, _ = parseTimeValue(lo.Value, now)
		if !loIncl {
			f.from++
		}
	}
	if !hi.Unbounded {
		f.to, _ = parseTimeValue(hi.Value, now)
		if hiIncl {
			f.to++
		}
	}
	return f
}

const (
	minTime = -1 << 63
	maxTime = 1<<63 - 1
)

func (f timeFilter) Match(r *record.Record) bool { return r.Time >= f.from && r.Time < f.to }

// MayMatch is true: the store already skips by time through the narrowed
// search range.
func (timeFilter) MayMatch(store.BlockSummary) bool { return true }

// timeNode turns a Compare or Range on _time into its filter.
func timeNode(n Node, now time.Time) (timeFilter, bool) {
	open := Bound{Unbounded: true}
	switch n := n.(type) {
	case Range:
		if n.Field == record.TimeField {
			return newTimeFilter(n.Lo, n.Hi, n.LoIncl, n.HiIncl, now), true
		}
	case Compare:
		if n.Field == record.TimeField {
			b := Bound{Value: n.Value}
			switch n.Op {
			case ">", ">=":
				return newTimeFilter(b, open, n.Op == ">=", false, now), true
			default:
				return newTimeFilter(open, b, false, n.Op == "<=", now), true
			}
		}
	}
	return timeFilter{}, false
}

// TimeRange returns the time range that the query's top-level _time
// conditions allow, in the store's terms: from <= t < to, to 0 for no upper
// bound. Conditions under OR or NOT do not narrow it.
func (q *Query) TimeRange(now time.Time) (from, to int64) {
	f := timeFilter{from: minTime, to: maxTime}
	nodes := []Node{q.Filter}
	if a, ok := q.Filter.(And); ok {
		nodes = a.Children
	}
	for _, n := range nodes {
		if t, ok := timeNode(n, now); ok {
			f.from = max(f.from, t.from)
			f.to = min(f.to, t.to)
		}
	}
	if f.to == maxTime {
		return max(f.from, 0), 0
	}
	return emptyIfInverted(max(f.from, 0), f.to)
}

// emptyIfInverted keeps a range the store reads as empty when to <= from:
// a To of 0 would mean no upper bound instead.
func emptyIfInverted(from, to int64) (int64, int64) {
	if to <= from {
		return 1, 1
	}
	return from, to
}
