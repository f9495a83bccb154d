package query

import (
	"context"
	"fmt"
	"time"

	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/store"
)

// Compile turns the query's filter into the store's Filter. The result is
// safe for concurrent use; live tail uses its Match, the store its MayMatch.
func (q *Query) Compile() store.Filter {
	return q.CompileAt(time.Now())
}

// CompileContext is Compile for a filter that serves ctx: once ctx is
// done, evaluations that could take long (a regular expression over a long
// value) give up and answer no match.
func (q *Query) CompileContext(ctx context.Context) store.Filter {
	return compile(q.Filter, compileEnv{now: time.Now(), ctx: ctx})
}

// CompileAt is Compile with relative times (now-1h) resolved against now.
func (q *Query) CompileAt(now time.Time) store.Filter {
	return compile(q.Filter, compileEnv{now: now})
}

// compileEnv is what a filter is compiled against: the time relative times
// count from, and the context of the query it serves, which a filter whose
// one evaluation can take long (a regular expression over a long value)
// checks within that evaluation. A nil ctx is never cancelled.
type compileEnv struct {
	now time.Time
	ctx context.Context
}

func compile(n Node, env compileEnv) store.Filter {
	now := env.now
	if t, ok := timeNode(n, now); ok {
		return t
	}
	switch n := n.(type) {
	case nil, MatchAll:
		return matchAllFilter{}
	case Phrase:
		return newPhraseFilter(n.Field, n.Value, false)
	case Prefix:
		return newPhraseFilter(n.Field, n.Value, true)
	case Exists:
		return existsFilter{field: n.Field}
	case Compare:
		return newCompareFilter(n)
	case Range:
		return newRangeFilter(n.Field, n.Lo, n.Hi, n.LoIncl, n.HiIncl)
	case Wildcard:
		return newWildcardFilter(n)
	case Regex:
		return newRegexFilter(n, env.ctx)
	case Exact:
		return newExactFilter(n)
	case StreamSelector:
		return newStreamFilter(n)
	case And:
		f := make(andFilter, len(n.Children))
		for i, c := range n.Children {
			f[i] = compile(c, env)
		}
		return f
	case Or:
		f := make(orFilter, len(n.Children))
		for i, c := range n.Children {
			f[i] = compile(c, env)
		}
		return f
	case Not:
		return notFilter{compile(n.Child, env)}
	}
	// Every Node type is handled above; a new one must be added there.
	panic(fmt.Sprintf("query: compile: unknown node %T", n))
}

// indexed reports whether the store's block summary answers for field.
// _time and _stream are computed from other data, so a summary cannot be
// trusted to know them; _msg is indexed under record.MessageField.
func indexed(field string) bool {
	return field != record.TimeField && field != record.StreamField
}

type matchAllFilter struct{}

func (matchAllFilter) Match(*record.Record) bool        { return true }
func (matchAllFilter) MayMatch(store.BlockSummary) bool { return true }
