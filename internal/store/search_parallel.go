package store

import (
	"context"
	"errors"
	"maps"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/sluice-log/sluice/internal/cpuslot"
	"github.com/sluice-log/sluice/internal/record"
)

// newSearcher prepares a search of req with scratch buffers from the pool;
// done returns them.
func (s *Store) newSearcher(ctx context.Context, req *SearchRequest, fn func(*record.Record) error) *searcher {
	ss := &searcher{s: s, req: req, fn: fn, ctx: ctx, sc: s.getScratch(), budget: newScanBudget(req)}
	ss.withMsg = true
	if req.Fields != nil {
		ss.need = make(map[string]bool, len(req.Fields))
		for _, f := range req.Fields {
			ss.need[f] = true
		}
		// Not nil when empty: nil would build every field.
		ss.needList = slices.AppendSeq(make([]string, 0, len(ss.need)), maps.Keys(ss.need))
		slices.Sort(ss.needList)
		ss.withMsg = ss.need[record.MessageField]
	}
	ss.countFields = req.CountFields
	if ss.countFields == nil {
		ss.countFields = req.Fields
	}
	ss.fieldFilter = fieldFilterOf(req.Filter)
	if pf, ok := req.Filter.(PresenceFilter); ok && ss.fieldFilter != "" {
		ss.presenceOnly = pf.PresenceOnly()
	}
	if tf, ok := req.Filter.(TokenFilter); ok && ss.fieldFilter != "" && ss.fieldFilter != record.MessageField {
		ss.want = newHexWant(ss.fieldFilter, tf.WholeTokens())
	}
	ss.tokens = newTokenProbe(req.Filter)
	ss.sc.block.want = ss.want
	return ss
}

func (s *Store) getScratch() *blockScratch {
	sc, _ := s.scratch.Get().(*blockScratch)
	if sc == nil {
		sc = new(blockScratch)
	}
	// The search parses a block's times only where it needs them.
	sc.block.lazyTimes = true
	return sc
}

// done returns the searcher's scratch to the pool.
func (ss *searcher) done() {
	ss.sc.block.want = hexWant{}
	ss.sc.block.release()
	// A count that failed midway leaves times behind (countByCode).
	for i := range ss.sc.codes.times {
		ss.sc.codes.times[i] = ss.sc.codes.times[i][:0]
	}
	ss.s.scratch.Put(ss.sc)
	ss.sc = nil
}

// fork returns a searcher for a parallel worker: the same request and
// derived settings, its own scratch, counters and context, and the given
// callbacks.
func (ss *searcher) fork(ctx context.Context, req *SearchRequest, fn func(*record.Record) error) *searcher {
	w := &searcher{s: ss.s, req: req, fn: fn, ctx: ctx, sc: ss.s.getScratch(),
		need: ss.need, needList: ss.needList, withMsg: ss.withMsg,
		countFields: ss.countFields, fieldFilter: ss.fieldFilter, presenceOnly: ss.presenceOnly, want: ss.want, tokens: ss.tokens, budget: ss.budget}
	w.sc.block.want = w.want
	return w
}

// searchUnit is what one worker searches at a time: one index chunk of a
// part (at most chunkBlocks blocks), or one in-memory head stream (hv not
// nil).
type searchUnit struct {
	p  *part
	mi *metaIndex
	ci int
	hv *headView
}

func (ss *searcher) searchUnit(u searchUnit) error {
	if u.hv != nil {
		return ss.searchHead(u.hv)
	}
	return ss.searchChunk(u.p, u.mi, u.ci)
}

// planParts returns the units of the parts' index chunks that the
// meta-indexes cannot decide. A chunk outside the search's time range is
// skipped, and a chunk of one stream is decided whole when the filter
// can decide its stream (BlockMatcher): ruled out, or counted from the
// meta-index when the caller counts its records and the search's range
// covers it. Neither loads the chunk.
func (ss *searcher) planParts(parts []*part) ([]searchUnit, error) {
	ss.checkParts(parts)
	var units []searchUnit
	for _, p := range parts {
		if err := ss.ctx.Err(); err != nil {
			return nil, err
		}
		mi, err := p.metaIndex()
		if errors.Is(err, errCorrupt) {
			ss.lost(p, err)
			continue
		}
		if err != nil {
			return nil, err
		}
		for ci := range mi.chunks {
			c := &mi.chunks[ci]
			if c.maxTime < ss.req.From || ss.req.To != 0 && c.minTime >= ss.req.To {
				ss.stats.Blocks += int64(c.blocks)
				ss.stats.BlocksSkippedTime += int64(c.blocks)
				ss.s.blocksSkipped.Add(int64(c.blocks))
				continue
			}
			if c.oneStream && c.info.Tenant == ss.req.Tenant {
				switch ss.matchBlock(&c.info) {
				case BlockNone:
					ss.stats.Blocks += int64(c.blocks)
					ss.stats.BlocksSkippedStream += int64(c.blocks)
					ss.s.blocksSkipped.Add(int64(c.blocks))
					continue
				case BlockAll:
					if ss.covers(&c.info) && ss.countable(c.info.Labels) && (!ss.req.CountTimes || ss.oneBucket(&c.info)) {
						ss.stats.Blocks += int64(c.blocks)
						ss.stats.BlocksCounted += int64(c.blocks)
						ss.stats.RecordsCounted += c.records
						ss.stats.RecordsMatched += c.records
						if err := ss.count(&c.info, int(c.records), nil); err != nil {
							return nil, err
						}
						continue
					}
				}
			}
			units = append(units, searchUnit{p: p, mi: mi, ci: ci})
		}
	}
	return units, nil
}

// searchAll visits the blocks of parts and the head streams with up to
// GOMAXPROCS workers. Reading, decompressing and filtering run in
// parallel; fn and
// Count are called under one lock, one call at a time, so the caller sees
// what a serial search would show it, in another order (Search promises
// none). Filters are safe for concurrent use by the Filter contract.
func (ss *searcher) searchAll(v *view) error {
	units, err := ss.planParts(v.parts)
	if err != nil {
		return err
	}
	units = ss.headUnits(units, v)
	workers := min(runtime.GOMAXPROCS(0), len(units))
	if workers <= 1 {
		for _, u := range units {
			if err := ss.searchUnit(u); err != nil {
				return err
			}
		}
		return nil
	}

	ctx, cancel := context.WithCancel(ss.ctx)
	defer cancel()
	var mu sync.Mutex
	fn := func(r *record.Record) error {
		mu.Lock()
		defer mu.Unlock()
		return ss.fn(r)
	}
	req := *ss.req
	if count := ss.req.Count; count != nil {
		req.Count = func(r *record.Record, n int, times []int64) error {
			mu.Lock()
			defer mu.Unlock()
			return count(r, n, times)
		}
	}
	if count := ss.req.CountValues; count != nil {
		req.CountValues = func(r *record.Record, field string, values []string, counts []int) error {
			mu.Lock()
			defer mu.Unlock()
			return count(r, field, values, counts)
		}
	}
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		failed   sync.Once
		firstErr error
	)
	// The first worker runs on this goroutine's CPU slot (it only waits
	// meanwhile); the others take slots of their own, and stop waiting for
	// one once every unit has been taken, so that a small search is not
	// held up by workers that would find nothing left to do.
	slotCtx, noMoreSlots := context.WithCancel(ctx)
	defer noMoreSlots()
	// The first worker works on the search's slot (the search only waits
	// meanwhile), the others on slots of their own, siblings of it: the
	// workers of one search do not take turns on a slot with each other
	// (cpuslot.Slice), only with other searches. They are made before any
	// worker starts (a Hold is not safe for concurrent use).
	cpus := make([]*cpuslot.Hold, workers)
	for i := range cpus {
		if cpus[i] = ss.cpu; i > 0 && ss.cpu != nil {
			cpus[i] = ss.cpu.Sibling()
		}
	}
	ws := make([]*searcher, workers)
	for i := range ws {
		w := ss.fork(ctx, &req, fn)
		ws[i] = w
		cpu := cpus[i]
		wg.Go(func() {
			if i > 0 && cpu != nil {
				defer cpu.Release()
				if cpu.Reacquire(slotCtx) != nil {
					return // nothing left to do, or the search ended
				}
			}
			for {
				// At a unit's end a worker hands its slot over when
				// searches hold more than their share while ingest waits,
				// or after cpuslot.Slice to another waiting search
				// (package cpuslot): a small search does not wait for a
				// heavy one's end.
				if cpu != nil && cpu.Yield(slotCtx) != nil {
					return // nothing left to do, or the search ended
				}
				k := int(next.Add(1)) - 1
				if k >= len(units)-1 {
					noMoreSlots()
				}
				if k >= len(units) {
					return
				}
				if err := w.searchUnit(units[k]); err != nil {
					// The first error is the search's; the others are
					// the cancellation it causes.
					failed.Do(func() { firstErr = err; cancel() })
					return
				}
			}
		})
	}
	wg.Wait()
	for _, w := range ws {
		ss.stats.add(&w.stats)
		w.done()
	}
	if firstErr == nil && int(next.Load()) < len(units) {
		// The workers stopped waiting for a slot as the search ended,
		// with units left: the answer lacks them.
		firstErr = ss.ctx.Err()
	}
	return firstErr
}

// headUnits appends the units of v's head streams, less those whose
// records cannot match the filter: its token is in none of their chunks
// (headTokenOf).
func (ss *searcher) headUnits(units []searchUnit, v *view) []searchUnit {
	tok, field := headTokenOf(ss.req.Filter)
	var heads []*headChunks // per head, made when first needed
	for i := range v.heads {
		hv := &v.heads[i]
		if tok != "" && !hasLabel(hv.hs.labels, field) {
			if heads == nil {
				heads = make([]*headChunks, v.nheads)
			}
			if heads[hv.head] == nil {
				heads[hv.head] = newHeadChunks(hv.chunks, tok)
			}
			if !headMayMatch(hv, heads[hv.head]) {
				continue
			}
		}
		units = append(units, searchUnit{hv: hv})
	}
	return units
}

// checkParts checks the sha256 of the parts this process has not checked
// yet before the search reads them (Store.checkFirstRead), GOMAXPROCS at
// a time, and stops waiting when the search ends (the hashes under way
// go on, for the next read). A part that fails is found
// quarantined when its meta-index is read.
func (ss *searcher) checkParts(parts []*part) {
	var todo []*part
	for _, p := range parts {
		if !p.verified.Load() {
			todo = append(todo, p)
		}
	}
	if len(todo) == 0 || ss.s.pio.check == nil {
		return
	}
	// The hashes run outside the CPU slots (they are rare: a part's first
	// read after a restart); the search waits for them without its slot.
	ss.releaseCPU()
	defer ss.reacquireCPU()
	next := make(chan *part)
	var wg sync.WaitGroup
	for range min(len(todo), runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			for p := range next {
				_ = ss.s.checkFirstRead(ss.ctx, p)
			}
		})
	}
send:
	for _, p := range todo {
		select {
		case next <- p:
		case <-ss.ctx.Done():
			break send // the hashes started go on; no new one starts
		}
	}
	close(next)
	wg.Wait()
}

// releaseCPU gives back the search's CPU slot while it waits.
func (ss *searcher) releaseCPU() {
	if ss.cpu != nil {
		ss.cpu.Release()
	}
}

// reacquireCPU takes the search's CPU slot again after a wait. Should the
// context end first, the search goes on without one: it fails at its next
// check of the context.
func (ss *searcher) reacquireCPU() {
	if ss.cpu != nil {
		_ = ss.cpu.Reacquire(ss.ctx)
	}
}
