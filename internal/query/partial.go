package query

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/store"
)

// A distributed query runs in two places: ExecutePartial on every indexer,
// over its own store, and a Merge on the querier over their answers. They
// split the query where Execute cuts its rows:
//
//   - The filter and the streaming pipes (filter, unpack_json, extract …)
//     run on the indexers, over every matching record.
//   - When the next pipe aggregates (stats, top), each indexer runs its
//     stats pipe and sends every group's key and each function's state
//     (statsState.appendPartial); the querier merges the states group by
//     group (mergePartial) and runs the rest of the pipes on the merged
//     groups, exactly as Execute runs them on one store's.
//   - When the next pipe is flow, each indexer sends every key's earliest
//     start and earliest end (flowProcessor.appendPartial); the querier
//     keeps the earliest of each over the indexers, which is what one
//     store's flow would have seen, and finishes the pipe and the rest.
//   - Otherwise each indexer sends its newest Limit records; the newest
//     Limit of all of them are the newest Limit of the union, and the
//     querier runs the remaining pipes (sort, limit, fields …) on those.
//
// Both are exact: the merged answer is the one Execute gives over the
// union of the indexers' records.

// Kinds of partial answers, the first byte after the magic.
const (
	partialMagic   = "SLP1"
	partialStats   = 's'
	partialRecords = 'r'
	partialFields  = 'f'
	partialContext = 'c'
	partialFlow    = 'w'
)

// discard is the end of an indexer's chain: its rows are sent as
// partial state, not emitted.
var discard = emitProcessor(func(Row) error { return nil })

// plan is where a query splits: pipes[:k] stream on the indexers; agg or
// flow, when set, is pipes[k] (aggregated on the indexers, finished on
// the querier); the pipes after run on the querier.
type plan struct {
	k    int
	agg  aggregation
	flow *FlowPipe
}

func splitQuery(q *Query) (plan, error) {
	k := 0
	for k < len(q.Pipes) && isStreaming(q.Pipes[k]) {
		k++
	}
	if k == len(q.Pipes) || !q.Pipes[k].consumesRecords() {
		return plan{k: k}, nil
	}
	if f, ok := q.Pipes[k].(*FlowPipe); ok {
		return plan{k: k, flow: f}, nil
	}
	agg, ok := q.Pipes[k].(aggregation)
	if !ok {
		return plan{}, fmt.Errorf("query: pipe %q cannot run across indexers", q.Pipes[k].String())
	}
	return plan{k: k, agg: agg}, nil
}

// prepare resolves opts as Execute does: defaults, and the range narrowed
// by the query's own _time conditions, which rate() divides by.
func prepare(q *Query, opts Options) (Options, store.SearchRequest) {
	opts = opts.withDefaults()
	req := opts.request(q)
	req.Fields = q.searchFields()
	opts.From, opts.To = req.From, req.To
	return opts, req
}

// ExecutePartial runs an indexer's share of q over src (see the comment
// above) and returns it encoded for Merge.Add. opts.Now must be the
// querier's, so that every indexer resolves relative times alike.
func ExecutePartial(ctx context.Context, src store.Searcher, q *Query, opts Options) ([]byte, error) {
	pl, err := splitQuery(q)
	if err != nil {
		return nil, err
	}
	opts.ctx = ctx
	opts, req := prepare(q, opts)
	var head processor
	var encode func(dst []byte) []byte
	var aggregate *statsProcessor
	switch {
	case pl.flow != nil:
		fp := pl.flow.newProcessor(opts, discard).(*flowProcessor)
		head, encode = fp, fp.appendPartial
	case pl.agg != nil:
		stats, _ := pl.agg.split()
		sp := stats.newProcessor(opts, discard).(*statsProcessor)
		head, encode, aggregate = sp, sp.appendPartial, sp
	default:
		np := &newestProcessor{h: newestHeap{limit: opts.Limit, maxBytes: opts.MaxResultBytes, meter: opts.Results}, next: discard}
		defer np.h.release()
		head, encode = np, np.appendPartial
	}
	for i := pl.k - 1; i >= 0; i-- {
		head = q.Pipes[i].newProcessor(opts, head)
	}
	useCounter(head, &req)
	err = scan(ctx, src, req, func(r *record.Record) error {
		return head.push(Row{Record: r})
	})
	if err != nil && !errors.Is(err, errStop) {
		return nil, err
	}
	if aggregate != nil {
		if err := aggregate.settle(); err != nil {
			return nil, err
		}
	}
	// Streaming pipes hold no rows, so nothing needs their flush; the
	// last stage's rows are the answer.
	return encode(nil), nil
}

// appendPartial encodes the groups: their keys as text, in the pipe's
// key order, then each function's state.
func (s *statsProcessor) appendPartial(dst []byte) []byte {
	// The caller has settled s (ExecutePartial): every count is a group.
	dst = append(dst, partialMagic...)
	dst = append(dst, partialStats)
	dst = binary.AppendUvarint(dst, uint64(len(s.pipe.By)))
	dst = binary.AppendUvarint(dst, uint64(len(s.pipe.Funcs)))
	dst = binary.AppendUvarint(dst, uint64(len(s.all)))
	var st []byte
	for _, g := range s.all {
		for _, k := range g.keys {
			dst = appendString(dst, k.Str)
		}
		for _, state := range g.states {
			st = state.appendPartial(st[:0])
			dst = appendString(dst, string(st))
		}
	}
	return dst
}

// appendPartial encodes the newest records kept, newest first.
func (n *newestProcessor) appendPartial(dst []byte) []byte {
	return appendRecords(append(append(dst, partialMagic...), partialRecords), n.h.sorted())
}

func appendRecords(dst []byte, recs []*record.Record) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(recs)))
	var b []byte
	for _, r := range recs {
		b = record.AppendBinary(b[:0], r)
		dst = appendString(dst, string(b))
	}
	return dst
}

func readRecords(r *wireReader) []*record.Record {
	recs := make([]*record.Record, r.count(1))
	for i := range recs {
		b := r.bytes()
		if r.err != nil {
			return nil
		}
		rec := new(record.Record)
		if n, err := record.Decode(b, rec); err != nil || n != len(b) {
			r.fail("bad record")
			return nil
		}
		recs[i] = rec
	}
	return recs
}

// openPartial checks the magic and the kind of a partial answer and
// returns a reader positioned after them.
func openPartial(b []byte, kind byte) (*wireReader, error) {
	if len(b) < len(partialMagic)+1 || string(b[:len(partialMagic)]) != partialMagic {
		return nil, fmt.Errorf("%w: no partial answer header", errPartialCorrupt)
	}
	if got := b[len(partialMagic)]; got != kind {
		return nil, fmt.Errorf("%w: kind %q, want %q (do the querier and the indexer run the same version?)", errPartialCorrupt, got, kind)
	}
	return &wireReader{b: b, off: len(partialMagic) + 1}, nil
}

// Merge combines the partial answers of the indexers to one query into
// the query's rows, on the querier.
type Merge struct {
	pl   plan
	head processor
	sp   *statsProcessor
	np   *newestProcessor
	fp   *flowProcessor
	// row is scratch for the key values of a merged group.
	row []Value
}

// NewMerge prepares the merge of q's partial answers; Finish emits the
// rows. opts must be the options the indexers ran with (the same Now).
// The records a search's merge keeps are bounded by opts.MaxResultBytes
// and charged to opts.Results, as a local search's, until Close.
func NewMerge(q *Query, opts Options, emit func(Row) error) (*Merge, error) {
	pl, err := splitQuery(q)
	if err != nil {
		return nil, err
	}
	opts, _ = prepare(q, opts)
	var next processor = emitProcessor(emit)
	m := &Merge{pl: pl}
	if pl.flow != nil {
		for i := len(q.Pipes) - 1; i > pl.k; i-- {
			next = q.Pipes[i].newProcessor(opts, next)
		}
		m.fp = pl.flow.newProcessor(opts, next).(*flowProcessor)
		m.head = m.fp
		return m, nil
	}
	if pl.agg == nil {
		for i := len(q.Pipes) - 1; i >= pl.k; i-- {
			next = q.Pipes[i].newProcessor(opts, next)
		}
		m.np = &newestProcessor{h: newestHeap{limit: opts.Limit, maxBytes: opts.MaxResultBytes, meter: opts.Results}, next: next}
		m.head = m.np
		return m, nil
	}
	for i := len(q.Pipes) - 1; i > pl.k; i-- {
		next = q.Pipes[i].newProcessor(opts, next)
	}
	stats, after := pl.agg.split()
	for i := len(after) - 1; i >= 0; i-- {
		next = after[i].newProcessor(opts, next)
	}
	m.sp = stats.newProcessor(opts, next).(*statsProcessor)
	m.head = m.sp
	return m, nil
}

// Add merges one indexer's answer. An error leaves the merge unusable:
// an answer that cannot be read may have been merged in part.
func (m *Merge) Add(partial []byte) error {
	if m.fp != nil {
		return m.fp.mergePartial(partial)
	}
	if m.np != nil {
		r, err := openPartial(partial, partialRecords)
		if err != nil {
			return err
		}
		recs := readRecords(r)
		if err := r.end(); err != nil {
			return err
		}
		for _, rec := range recs {
			if err := m.np.h.offer(rec); err != nil {
				return err
			}
		}
		return nil
	}
	r, err := openPartial(partial, partialStats)
	if err != nil {
		return err
	}
	s := m.sp
	nkeys, nfuncs := r.uvarint(), r.uvarint()
	if r.err == nil && (nkeys != uint64(len(s.pipe.By)) || nfuncs != uint64(len(s.pipe.Funcs))) {
		return fmt.Errorf("%w: %d keys and %d functions per group, want %d and %d", errPartialCorrupt, nkeys, nfuncs, len(s.pipe.By), len(s.pipe.Funcs))
	}
	ngroups := r.count(len(s.pipe.By) + len(s.pipe.Funcs))
	for range ngroups {
		m.row = m.row[:0]
		for _, k := range s.pipe.By {
			m.row = append(m.row, Value{Name: k.Field, Str: r.str()})
		}
		if r.err != nil {
			return r.err
		}
		g, err := s.group(Row{Values: m.row})
		if err != nil {
			return err
		}
		for _, st := range g.states {
			b := r.bytes()
			if r.err != nil {
				return r.err
			}
			grew, err := st.mergePartial(b, s.maxMemory-s.mem)
			if errors.Is(err, errPartialBudget) {
				s.mem = s.maxMemory + 1
				return s.checkMemory()
			}
			if err != nil {
				return err
			}
			s.mem += int64(grew)
		}
		if err := s.checkMemory(); err != nil {
			return err
		}
	}
	return r.end()
}

// Finish emits the rows of the merged answers.
func (m *Merge) Finish() error { return m.head.flush() }

// Close gives back to Options.Results what the merge kept; the querier
// calls it when the query returns, whether or not Finish ran.
func (m *Merge) Close() {
	if m.np != nil {
		m.np.h.release()
	}
}
