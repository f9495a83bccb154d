package query

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/store"
)

// Surroundings are the records around a hit in its stream.
type Surroundings struct {
	// Before holds up to N records older than the hit, oldest first.
	Before []*record.Record
	// At holds the records of the stream at the hit's exact time (the hit
	// itself, and any record logged in the same nanosecond).
	At []*record.Record
	// After holds up to N records newer than the hit, oldest first.
	After []*record.Record
}

// contextMaxAt bounds the records kept at the hit's own time.
const contextMaxAt = 100

// Context finds the n records before and after time t in the stream
// (as record.StreamString renders it) of opts.Tenant. It looks in windows
// that grow from a minute before and after t, so that a busy stream does
// not cost a scan of its whole history.
func Context(ctx context.Context, src store.Searcher, stream string, t int64, before, after int, opts Options) (Surroundings, error) {
	return streamContext(ctx, src, newStreamContextFilter(stream), t, before, after, opts)
}

func streamContext(ctx context.Context, src store.Searcher, f store.Filter, t int64, before, after int, opts Options) (Surroundings, error) {
	var out Surroundings
	at := newestHeap{limit: contextMaxAt, oldest: true, maxBytes: opts.MaxResultBytes, meter: opts.Results}
	defer at.release()
	req := store.SearchRequest{Tenant: opts.Tenant, From: t, To: t + 1, Filter: f, Stats: opts.Stats,
		MaxScannedRecords: opts.MaxScannedRecords, MaxScannedBytes: opts.MaxScannedBytes}
	if err := scan(ctx, src, req, at.offer); err != nil {
		return out, err
	}
	out.At = at.sorted()
	var err error
	// Each side is bounded on its own.
	if out.Before, err = contextSide(ctx, src, req, t, before, false, opts.MaxResultBytes, opts.Results); err != nil {
		return out, err
	}
	out.After, err = contextSide(ctx, src, req, t, after, true, opts.MaxResultBytes, opts.Results)
	return out, err
}

// contextSide collects up to n records on one side of t, oldest first,
// within maxBytes (0: no bound), charged to meter while it searches.
func contextSide(ctx context.Context, src store.Searcher, req store.SearchRequest, t int64, n int, later bool, maxBytes int64, meter *ResultMeter) ([]*record.Record, error) {
	if n <= 0 {
		return nil, nil
	}
	for window := int64(time.Minute); ; window *= 16 {
		h := newestHeap{limit: n, oldest: later, maxBytes: maxBytes, meter: meter}
		// Past a year, look at everything left on that side.
		full := window >= int64(400*24*time.Hour)
		if later {
			req.From, req.To = t+1, satAdd(t+1, window)
			if full {
				req.To = 0
			}
		} else {
			req.From, req.To = max(t-window, 0), t
			if full {
				req.From = 0
			}
		}
		err := scan(ctx, src, req, h.offer)
		// What a window keeps is charged while it is searched: a window
		// too narrow is dropped for the next, wider one, the last one's
		// records are returned at once.
		h.release()
		if err != nil {
			return nil, fmt.Errorf("query: context: %w", err)
		}
		if len(h.recs) < n && !full && (later || req.From > 0) {
			continue
		}
		recs := h.sorted()
		if !later {
			for i, j := 0, len(recs)-1; i < j; i, j = i+1, j-1 {
				recs[i], recs[j] = recs[j], recs[i]
			}
		}
		return recs, nil
	}
}

func satAdd(a, b int64) int64 {
	if a > maxTime-b {
		return maxTime
	}
	return a + b
}

// streamContextFilter selects one stream exactly; the labels, parsed as a
// selector, let the index skip blocks of other streams.
type streamContextFilter struct {
	stream string
	index  store.Filter
}

func newStreamContextFilter(stream string) streamContextFilter {
	f := streamContextFilter{stream: stream, index: matchAllFilter{}}
	if q, err := Parse(record.StreamField + ":" + stream); err == nil {
		if sel, ok := q.Filter.(StreamSelector); ok {
			f.index = newStreamFilter(sel)
		}
	}
	return f
}

func (f streamContextFilter) Match(r *record.Record) bool        { return r.StreamString() == f.stream }
func (f streamContextFilter) MayMatch(b store.BlockSummary) bool { return f.index.MayMatch(b) }

// ContextPartial is an indexer's share of Context, encoded for
// MergeContext: its records around t in the stream, of those that also
// match within's filter when within is not nil (a querier's partitions).
func ContextPartial(ctx context.Context, src store.Searcher, stream string, t int64, before, after int, opts Options, within *Query) ([]byte, error) {
	var f store.Filter = newStreamContextFilter(stream)
	if within != nil {
		f = andFilter{f, compile(within.Filter, compileEnv{now: opts.withDefaults().Now, ctx: ctx})}
	}
	s, err := streamContext(ctx, src, f, t, before, after, opts)
	if err != nil {
		return nil, err
	}
	dst := append([]byte(partialMagic), partialContext)
	for _, recs := range [3][]*record.Record{s.Before, s.At, s.After} {
		dst = appendRecords(dst, recs)
	}
	return dst, nil
}

// MergeContext combines the indexers' ContextPartial answers: the before
// nearest records older than the hit, those at its time, and the after
// nearest newer ones, over all of them. Each indexer sent its own nearest,
// so the nearest of the union are among them. As in Context, each side's
// records are bounded by opts.MaxResultBytes and charged to opts.Results
// while the merge runs.
func MergeContext(partials [][]byte, before, after int, opts Options) (Surroundings, error) {
	heaps := [3]newestHeap{{limit: before}, {limit: contextMaxAt, oldest: true}, {limit: after, oldest: true}}
	for i := range heaps {
		heaps[i].maxBytes, heaps[i].meter = opts.MaxResultBytes, opts.Results
		defer heaps[i].release()
	}
	for _, p := range partials {
		r, err := openPartial(p, partialContext)
		if err != nil {
			return Surroundings{}, err
		}
		var sides [3][]*record.Record
		for i := range sides {
			sides[i] = readRecords(r)
		}
		if err := r.end(); err != nil {
			return Surroundings{}, err
		}
		for i, recs := range sides {
			for _, rec := range recs {
				if heaps[i].limit <= 0 {
					break
				}
				if err := heaps[i].offer(rec); err != nil {
					return Surroundings{}, fmt.Errorf("query: context: %w", err)
				}
			}
		}
	}
	out := Surroundings{Before: heaps[0].sorted(), At: heaps[1].sorted(), After: heaps[2].sorted()}
	slices.Reverse(out.Before) // newest first from the heap; oldest first here
	return out, nil
}
