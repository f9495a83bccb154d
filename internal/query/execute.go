package query

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sluice-log/sluice/internal/cpuslot"
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
	// MaxGroups bounds the groups of a stats pipe; default 10000000.
	MaxGroups int
	// MaxResultBytes bounds the bytes of the records a query keeps for its
	// answer (the newest Limit of a search before its later pipes, the
	// records around a hit): past it the query fails with a
	// *ResultLimitError. 0 means no bound.
	MaxResultBytes int64
	// Results, when set, is charged with what the query keeps for its
	// answer while it runs (a server's total, for its status).
	Results *ResultMeter
	// MaxMemory bounds the estimated bytes an aggregation holds (groups,
	// distinct values, quantile samples); default 256 MiB.
	MaxMemory int64
	// Now resolves relative times such as now-1h; zero means the time
	// Execute is called.
	Now time.Time
	// Stats, when set, receives the store's account of the search (see
	// Explain).
	Stats *store.SearchStats
	// MaxScannedRecords and MaxScannedBytes bound what the search may read
	// (store.SearchRequest); past either it fails with a
	// *store.ScanLimitError. 0 means no bound.
	MaxScannedRecords, MaxScannedBytes int64

	// ctx is the context of the run, set by its entry point (Execute,
	// ExecutePartial …), for filters that look at it within one
	// evaluation (see compileEnv).
	ctx context.Context
}

const (
	defaultLimit     = 1000
	defaultMaxGroups = 10000000
	defaultMaxMemory = 256 << 20
)

func (o Options) withDefaults() Options {
	if o.Limit <= 0 {
		o.Limit = defaultLimit
	}
	if o.MaxGroups <= 0 {
		o.MaxGroups = defaultMaxGroups
	}
	if o.MaxMemory <= 0 {
		o.MaxMemory = defaultMaxMemory
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	return o
}

// request builds the store's search: the options' time range narrowed by
// the query's own _time conditions.
func (o Options) request(q *Query) store.SearchRequest {
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	from, to := q.TimeRange(now)
	from = max(from, o.From)
	if to == 0 || (o.To != 0 && o.To < to) {
		to = o.To
	}
	if to != 0 {
		from, to = emptyIfInverted(from, to)
	}
	f := withoutEnforcedTime(compile(q.Filter, compileEnv{now: now, ctx: o.ctx}), from, to)
	return store.SearchRequest{Tenant: o.Tenant, From: from, To: to, Filter: f,
		Stats: o.Stats, MaxScannedRecords: o.MaxScannedRecords, MaxScannedBytes: o.MaxScannedBytes}
}

// withoutEnforcedTime drops from f's top-level AND the _time conditions
// that the search's range [from, to) enforces anyway (a searcher checks
// every record's time against it): what is left is often one field's
// condition, which the store decides per distinct value and, over part of
// a block's time range, by the block's time index without its timestamps,
// where a filter that also reads _time is asked row by row.
func withoutEnforcedTime(f store.Filter, from, to int64) store.Filter {
	and, ok := f.(andFilter)
	if !ok {
		return f
	}
	kept := make(andFilter, 0, len(and))
	for _, c := range and {
		if tf, ok := c.(timeFilter); ok && tf.from <= from && (tf.to == maxTime || to != 0 && to <= tf.to) {
			continue
		}
		kept = append(kept, c)
	}
	switch len(kept) {
	case len(and):
		return f
	case 0:
		return matchAllFilter{}
	case 1:
		return kept[0]
	}
	return kept
}

// Execute runs q over src and calls emit for each result row, in order.
//
// Pipes that work on one row at a time (filter, unpack_json, extract, …)
// see every matching record. After them, unless the next pipe aggregates
// (stats, top), the rows are cut to the newest opts.Limit records, newest
// first, for the remaining pipes (sort, limit, fields).
func Execute(ctx context.Context, src store.Searcher, q *Query, opts Options, emit func(Row) error) error {
	opts = opts.withDefaults()
	// The query runs on one CPU slot of high priority (package cpuslot):
	// the store's search takes it, and the pipes' work after the search
	// (sorting, the aggregates' results, the rows handed to emit) keeps
	// it, rather than queueing for a P behind ingest and merges.
	cpu := cpuslot.HoldOf(ctx)
	if cpu == nil {
		cpu = cpuslot.Shared().NewHold(cpuslot.High)
		ctx = cpuslot.WithHold(ctx, cpu)
		defer cpu.Release()
	}
	opts.ctx = ctx
	req := opts.request(q)
	// Only what the filter and the pipes read is built from storage.
	req.Fields = q.searchFields()
	// Pipes that depend on the range (rate) see the effective one.
	opts.From, opts.To = req.From, req.To
	k := 0
	for k < len(q.Pipes) && isStreaming(q.Pipes[k]) {
		k++
	}
	var head processor = emitProcessor(emit)
	for i := len(q.Pipes) - 1; i >= k; i-- {
		head = q.Pipes[i].newProcessor(opts, head)
	}
	if k == len(q.Pipes) || !q.Pipes[k].consumesRecords() {
		np := &newestProcessor{h: newestHeap{limit: opts.Limit, maxBytes: opts.MaxResultBytes, meter: opts.Results}, next: head}
		defer np.h.release()
		head = np
	}
	for i := k - 1; i >= 0; i-- {
		head = q.Pipes[i].newProcessor(opts, head)
	}
	useCounter(head, &req)
	err := scan(ctx, src, req, func(r *record.Record) error {
		return head.push(Row{Record: r})
	})
	if err != nil && !errors.Is(err, errStop) {
		return err
	}
	if err := cpu.Reacquire(ctx); err != nil {
		return err
	}
	return head.flush()
}

// scan runs a search, checking ctx between records.
func scan(ctx context.Context, src store.Searcher, req store.SearchRequest, fn func(*record.Record) error) error {
	var fnErr error
	if count := req.Count; count != nil {
		req.Count = func(r *record.Record, n int, times []int64) error {
			fnErr = count(r, n, times)
			return fnErr
		}
	}
	if count := req.CountValues; count != nil {
		req.CountValues = func(r *record.Record, field string, values []string, counts []int) error {
			fnErr = count(r, field, values, counts)
			return fnErr
		}
	}
	err := src.Search(ctx, req, func(r *record.Record) error {
		// Every record: the pipes may spend long on one (unpack_json of a
		// 16 MiB message), and a look is one atomic load.
		if err := ctx.Err(); err != nil {
			return err
		}
		fnErr = fn(r)
		return fnErr
	})
	if err == nil {
		// Filters answer no match once ctx is done (see regexFilter), so
		// a search that ended after it may have missed records.
		err = ctx.Err()
	}
	if err != nil && err != fnErr {
		// The error is the store's own, not one a pipe or emit returned.
		return fmt.Errorf("query: search: %w", err)
	}
	return err
}

// newestProcessor keeps the newest limit record rows and passes them on
// newest first.
type newestProcessor struct {
	h    newestHeap
	next processor
}

func (n *newestProcessor) push(r Row) error {
	if r.Record == nil {
		return n.next.push(r)
	}
	return n.h.offer(r.Record)
}

func (n *newestProcessor) flush() error {
	for _, r := range n.h.sorted() {
		if err := n.next.push(Row{Record: r}); err != nil {
			if err == errStop {
				break
			}
			return err
		}
	}
	return n.next.flush()
}

type emitProcessor func(Row) error

func (e emitProcessor) push(r Row) error { return e(r) }
func (emitProcessor) flush() error       { return nil }
