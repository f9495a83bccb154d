package query

import (
	"context"
	"errors"
	"fmt"

	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/store"
)

// Options bound and scope one execution.
type Options struct {
	// Tenant selects one tenant's records.
	Tenant string
	// From and To bound record time in Unix nanoseconds (From <= t < To);
	// To 0 means unbounded.
	From, To int64
	// Limit is the number of records a plain search returns; default 1000.
	Limit int
	// MaxGroups bounds the groups of a stats pipe; default 100000.
	MaxGroups int
}

const (
	defaultLimit     = 1000
	defaultMaxGroups = 100000
	// ctxCheckEvery is how many records pass between checks of ctx, which
	// bounds how long a cancelled query keeps scanning.
	ctxCheckEvery = 1024
)

func (o Options) withDefaults() Options {
	if o.Limit <= 0 {
		o.Limit = defaultLimit
	}
	if o.MaxGroups <= 0 {
		o.MaxGroups = defaultMaxGroups
	}
	return o
}

func (o Options) request(q *Query) store.SearchRequest {
	return store.SearchRequest{Tenant: o.Tenant, From: o.From, To: o.To, Filter: q.Compile()}
}

// Execute runs q over src and calls emit for each result row, in order.
//
// Without pipes, or when the first pipe works on rows (sort, limit), the
// rows are the newest opts.Limit matching records, newest first. A pipe that
// aggregates (stats) as the first pipe sees every matching record instead.
func Execute(ctx context.Context, src store.Searcher, q *Query, opts Options, emit func(Row) error) error {
	opts = opts.withDefaults()
	var head processor = emitProcessor(emit)
	for i := len(q.Pipes) - 1; i >= 0; i-- {
		head = q.Pipes[i].newProcessor(opts, head)
	}
	var err error
	if len(q.Pipes) > 0 && q.Pipes[0].consumesRecords() {
		err = scan(ctx, src, opts.request(q), func(r *record.Record) error {
			return head.push(Row{Record: r})
		})
	} else {
		err = pushNewest(ctx, src, opts.request(q), opts.Limit, head)
	}
	if err != nil && !errors.Is(err, errStop) {
		return err
	}
	return head.flush()
}

// scan runs a search, checking ctx between records.
func scan(ctx context.Context, src store.Searcher, req store.SearchRequest, fn func(*record.Record) error) error {
	n := 0
	var fnErr error
	err := src.Search(ctx, req, func(r *record.Record) error {
		if n++; n%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		fnErr = fn(r)
		return fnErr
	})
	if err != nil && err != fnErr {
		// The error is the store's own, not one a pipe or emit returned.
		return fmt.Errorf("query: search: %w", err)
	}
	return err
}

// pushNewest keeps the newest limit records in a bounded heap and pushes
// them newest first.
func pushNewest(ctx context.Context, src store.Searcher, req store.SearchRequest, limit int, head processor) error {
	h := newestHeap{limit: limit}
	if err := scan(ctx, src, req, h.offer); err != nil {
		return err
	}
	for _, r := range h.sorted() {
		if err := head.push(Row{Record: r}); err != nil {
			return err
		}
	}
	return nil
}

type emitProcessor func(Row) error

func (e emitProcessor) push(r Row) error { return e(r) }
func (emitProcessor) flush() error       { return nil }
