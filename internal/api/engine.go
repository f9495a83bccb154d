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
	st := statsOf(&opts)
	err := query.Execute(ctx, e.b.Searcher(), q, opts, emit)
	return PartialOfSearch(st), err
}

func (e localEngine) Explain(ctx context.Context, q *query.Query, opts query.Options) (any, *Partial, error) {
	plan, err := query.Explain(ctx, e.b.Searcher(), q, opts)
	if err != nil {
		return nil, nil, err
	}
	return plan, PartialOfSearch(&plan.Cost), nil
}

func (e localEngine) Context(ctx context.Context, stream string, t int64, before, after int, opts query.Options) (query.Surroundings, *Partial, error) {
	st := statsOf(&opts)
	got, err := query.Context(ctx, e.b.Searcher(), stream, t, before, after, opts)
	return got, PartialOfSearch(st), err
}

func (e localEngine) FieldNames(ctx context.Context, q *query.Query, opts query.Options, top int) ([]query.FieldStats, *Partial, error) {
	st := statsOf(&opts)
	fields, err := query.FieldNames(ctx, e.b.Searcher(), q, opts, top)
	return fields, PartialOfSearch(st), err
}

// statsOf makes opts collect the search's statistics: into the caller's
// (which counts a tenant's cost) or a new one.
func statsOf(opts *query.Options) *store.SearchStats {
	if opts.Stats == nil {
		opts.Stats = &store.SearchStats{}
	}
	return opts.Stats
}

// NewLocalEngine is the Engine of a store's own queries (what a server
// without Config.Engine uses), for comparisons in tests and tools.
func NewLocalEngine(b Backend) Engine { return localEngine{b} }
