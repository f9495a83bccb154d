package query

import (
	"context"
	"reflect"
	"strings"
	"time"

	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/store"
)

// Plan is what explain answers: how a query is run and what running it
// cost.
type Plan struct {
	Query  string     `json:"query"`          // the canonical query
	Filter PlanNode   `json:"filter"`         // the filter's tree and how each part uses the index
	From   string     `json:"from,omitempty"` // the searched time range, RFC 3339; empty is unbounded
	To     string     `json:"to,omitempty"`
	Pipes  []PlanPipe `json:"pipes,omitempty"`
	// Cost is the store's account of the search.
	Cost store.SearchStats `json:"cost"`
	// Rows is the number of result rows the query produced.
	Rows     int64  `json:"rows"`
	Duration string `json:"duration"`
}

// PlanNode is one node of the filter tree.
type PlanNode struct {
	Node     string     `json:"node"`
	Text     string     `json:"text"`
	Index    string     `json:"index"` // what lets the store skip blocks for this node
	Children []PlanNode `json:"children,omitempty"`
}

// PlanPipe is one pipe and the rows it sees.
type PlanPipe struct {
	Pipe  string `json:"pipe"`
	Input string `json:"input"`
}

// Explain runs q like Execute, discarding the rows, and returns its plan
// with the measured cost.
func Explain(ctx context.Context, src store.Searcher, q *Query, opts Options) (*Plan, error) {
	opts = opts.withDefaults()
	opts.ctx = ctx
	var cost store.SearchStats
	opts.Stats = &cost
	req := opts.request(q)
	p := &Plan{Query: q.String(), Filter: planNode(q.Filter, opts.Now)}
	if req.From > 0 {
		p.From = time.Unix(0, req.From).UTC().Format(time.RFC3339Nano)
	}
	if req.To != 0 {
		p.To = time.Unix(0, req.To).UTC().Format(time.RFC3339Nano)
	}
	cut := false
	for _, pp := range q.Pipes {
		in := "every matching record"
		switch {
		case cut:
			in = "the rows of the pipe before"
		case isStreaming(pp):
		case pp.consumesRecords():
			cut = true
		default:
			in = "the newest matches (the query's limit)"
			cut = true
		}
		p.Pipes = append(p.Pipes, PlanPipe{Pipe: pp.String(), Input: in})
	}
	start := time.Now()
	err := Execute(ctx, src, q, opts, func(Row) error { p.Rows++; return nil })
	p.Duration = time.Since(start).Round(time.Microsecond).String()
	p.Cost = cost
	return p, err
}

func planNode(n Node, now time.Time) PlanNode {
	if n == nil {
		n = MatchAll{}
	}
	pn := PlanNode{Node: reflect.TypeOf(n).Name(), Text: n.String()}
	if _, ok := timeNode(n, now); ok {
		pn.Node = "TimeRange"
		pn.Index = "narrows the searched time range when at the top level (skips partitions and parts)"
		return pn
	}
	switch n := n.(type) {
	case And:
		pn.Index = "every child's"
		for _, c := range n.Children {
			pn.Children = append(pn.Children, planNode(c, now))
		}
	case Or:
		pn.Index = "any child's"
		for _, c := range n.Children {
			pn.Children = append(pn.Children, planNode(c, now))
		}
	case Not:
		pn.Index = "none: NOT is checked record by record"
		pn.Children = []PlanNode{planNode(n.Child, now)}
	case MatchAll:
		pn.Index = "none needed"
	default:
		pn.Index = leafIndex(compile(n, compileEnv{now: now}))
	}
	return pn
}

// leafIndex says what a leaf filter's MayMatch consults.
func leafIndex(f store.Filter) string {
	field := ""
	toks := []string(nil)
	switch f := f.(type) {
	case phraseFilter:
		field, toks = f.field, f.toks
		if f.prefix {
			toks = toks[:len(toks)-1]
		}
	case wildcardFilter:
		field, toks = f.field, f.toks
	case regexFilter:
		field, toks = f.field, f.toks
	case exactFilter:
		field, toks = f.field, f.toks
	case existsFilter:
		field = f.field
	case rangeFilter:
		if f.numeric && indexed(f.field) && f.field != record.MessageField {
			return "field presence and numeric min/max of " + f.field
		}
		field = f.field
	case streamFilter:
		var parts []string
		for _, m := range f {
			if m.re == nil && !m.negate && m.value != "" {
				parts = append(parts, m.label+" tokens "+strings.Join(m.toks, " "))
			}
		}
		if len(parts) == 0 {
			return "none: only = matchers use the index"
		}
		return strings.Join(parts, "; ")
	}
	switch {
	case field == "" || !indexed(field):
		return "none: checked record by record"
	case len(toks) > 0:
		return "tokens [" + strings.Join(toks, " ") + "] of " + field
	case field == record.MessageField:
		return "none: no whole token to look up"
	}
	return "presence of " + field
}
