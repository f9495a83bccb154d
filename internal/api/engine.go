package api

import (
	"context"

	"github.com/sluice-log/sluice/internal/query"
	"github.com/sluice-log/sluice/internal/store"
)

// Engine runs the queries of the API: over the local store (roles all and
// indexer), or fanned out over indexers and merged (role querier). Each
// method returns, besides its answer, what the answer lacks (nil when
// complete).
type Engine interface {
	Query(ctx context.Context, q *query.Query, opts query.Options, emit func(query.Row) error) (*Partial, error)
	// Explain returns what explain answers: a query.Plan, or a querier's
	// plans per indexer.
	Explain(ctx context.Context, q *query.Query, opts query.Options) (any, *Partial, error)
	Context(ctx context.Context, stream string, t int64, before, after int, opts query.Options) (query.Surroundings, *Partial, error)
	FieldNames(ctx context.Context, q *query.Query, opts query.Options, top int) ([]query.FieldStats, *Partial, error)
}

// localEngine runs queries on the backend's own store.
type localEngine struct{ b Backend }

func (e localEngine) Query(ctx context.Context, q *query.Query, opts query.Options, emit func(query.Row) error) (*Partial, error) {
	var st store.SearchStats
	opts.Stats = &st
	err := query.Execute(ctx, e.b.Searcher(), q, opts, emit)
	return PartialOfSearch(&st), err
}

func (e localEngine) Explain(ctx context.Context, q *query.Query, opts query.Options) (any, *Partial, error) {
	plan, err := query.Explain(ctx, e.b.Searcher(), q, opts)
	if err != nil {
		return nil, nil, err
	}
	return plan, PartialOfSearch(&plan.Cost), nil
}

func (e localEngine) Context(ctx context.Context, stream string, t int64, before, after int, opts query.Options) (query.Surroundings, *Partial, error) {
	var st store.SearchStats
	opts.Stats = &st
	got, err := query.Context(ctx, e.b.Searcher(), stream, t, before, after, opts)
	return got, PartialOfSearch(&st), err
}

func (e localEngine) FieldNames(ctx context.Context, q *query.Query, opts query.Options, top int) ([]query.FieldStats, *Partial, error) {
	var st store.SearchStats
	opts.Stats = &st
	fields, err := query.FieldNames(ctx, e.b.Searcher(), q, opts, top)
	return fields, PartialOfSearch(&st), err
}

// NewLocalEngine is the Engine of a store's own queries (what a server
// without Config.Engine uses), for comparisons in tests and tools.
func NewLocalEngine(b Backend) Engine { return localEngine{b} }
