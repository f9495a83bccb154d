package query

import (
	"fmt"

	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/store"
)

// Counter is a query of the form `<filter> | stats count()/sum(f) … [by
// fields]` evaluated one record at a time, as records are ingested: the
// running totals of such a query are counters (metrics from logs). It
// holds no state of its own; the caller keeps the totals.
type Counter struct {
	filter store.Filter
	// By are the group fields; Columns the stats columns in order.
	By      []string
	Columns []string
	sumOf   []string // per column: the field sum() reads, "" for count()
}

// NewCounter accepts a filter followed by one stats pipe of count() and
// sum(field) calls grouped by fields (no _time buckets).
func NewCounter(q *Query) (*Counter, error) {
	if len(q.Pipes) != 1 {
		return nil, fmt.Errorf("want a filter and one stats pipe of count() and sum(field), like 'status:>=500 | stats count() as n by service'")
	}
	sp, ok := q.Pipes[0].(*StatsPipe)
	if !ok {
		return nil, fmt.Errorf("want a stats pipe after the filter, got %q", q.Pipes[0].String())
	}
	c := &Counter{filter: q.Compile()}
	for _, k := range sp.By {
		if k.Bucket > 0 {
			return nil, fmt.Errorf("a counter cannot group by time buckets (%s): its samples are taken when exported", k)
		}
		c.By = append(c.By, k.Field)
	}
	for _, call := range sp.Funcs {
		switch f := call.Func.(type) {
		case statsCount:
			c.sumOf = append(c.sumOf, "")
		case statsSum:
			c.sumOf = append(c.sumOf, f.Field)
		default:
			return nil, fmt.Errorf("%s cannot be counted as records arrive: use count() or sum(field)", call.Func)
		}
		c.Columns = append(c.Columns, call.Name)
	}
	return c, nil
}

// Observe reports whether r matches; if so it fills group with r's
// values of the By fields ("" when absent) and deltas with what each
// column grows by. Both must have the lengths of By and Columns.
func (c *Counter) Observe(r *record.Record, group []string, deltas []float64) bool {
	if !c.filter.Match(r) {
		return false
	}
	for i, f := range c.By {
		group[i], _ = r.Get(f)
	}
	for i, f := range c.sumOf {
		if f == "" {
			deltas[i] = 1
			continue
		}
		deltas[i] = 0
		if s, ok := r.Get(f); ok {
			if v, ok := parseNumber(s); ok {
				deltas[i] = v
			}
		}
	}
	return true
}
