package store

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/sluice-log/sluice/internal/cpuslot"
	"github.com/sluice-log/sluice/internal/record"
)

var _ Searcher = (*Store)(nil)

// ctxCheckEvery is how many records a search visits between looks at its
// context.
const ctxCheckEvery = 1024

// view is what one search reads: a consistent cut of heads and parts taken
// under mu, so that a flush or merge in between is seen entirely or not at
// all and every record is visited exactly once.
type view struct {
	parts      []*part
	heads      []headView
	nheads     int   // the heads (frozen and active) heads' views come from
	partitions int64 // in the store
	skipped    int64 // partitions ruled out by the time range
	partsSkip  int64 // parts ruled out by their time range
	// unread are the quarantined parts in the searched partitions.
	unread []SkippedPart
}

// headView is one head stream as a search sees it: its records' offsets
// and its head's chunks as they were at the cut.
type headView struct {
	hs     *headStream
	offs   []uint64
	times  []int64 // of offs' records (headStream.times)
	chunks [][]byte
	// minTime and maxTime bound offs' records; copied at the cut because
	// the active head's stream widens them under the store's lock.
	minTime, maxTime int64
	// head numbers the head of hs among the view's (its chunks).
	head int
}

func (v *view) release() {
	for _, p := range v.parts {
		p.decRef()
	}
}

// Search implements Searcher. It visits the parts' blocks and the in-memory
// heads, in parallel (see searchAll); records passed to fn alias internal
// buffers and are reused.
func (s *Store) Search(ctx context.Context, req SearchRequest, fn func(r *record.Record) error) error {
	// A search runs on a CPU slot of high priority (package cpuslot): a
	// waiting search is given the next slot that ingest, a flush or a merge
	// hands over, so it does not queue behind them for a P. A caller that
	// holds one for the whole query (cpuslot.WithHold: the query engine,
	// whose work after the search runs on it too) lends it; it stays held
	// for that caller afterwards.
	cpu := cpuslot.HoldOf(ctx)
	if cpu == nil || cpu.Priority() != cpuslot.High {
		cpu = cpuslot.Shared().NewHold(cpuslot.High)
		defer cpu.Release()
	}
	if err := cpu.Reacquire(ctx); err != nil {
		return err
	}
	v, err := s.snapshot(req)
	if err != nil {
		return err
	}
	defer s.searches.Done()
	defer v.release()
	// Close ends the search rather than wait for its deadline.
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(s.lifeCtx, cancel)()
	ss := s.newSearcher(sctx, &req, fn)
	ss.cpu = cpu
	defer ss.done()
	if req.Stats != nil {
		defer ss.addStats(v)
	}
	err = ss.searchAll(v)
	if err != nil && ctx.Err() == nil && s.lifeCtx.Err() != nil {
		return errClosed
	}
	return err
}

// addStats adds what the search did to the caller's SearchStats.
func (ss *searcher) addStats(v *view) {
	st := ss.req.Stats
	st.Partitions += v.partitions
	st.PartitionsSkipped += v.skipped
	st.Parts += int64(len(v.parts)) + v.partsSkip
	st.PartsSkipped += v.partsSkip
	st.add(&SearchStats{Skipped: v.unread})
	st.add(&ss.stats)
	if len(st.Skipped) == 0 {
		return
	}
	// A part another search or worker quarantined is known by its cause.
	ss.s.mu.RLock()
	defer ss.s.mu.RUnlock()
	for i := range st.Skipped {
		sk := &st.Skipped[i]
		if sk.Err != "" {
			continue
		}
		sk.Err = "quarantined while this search read it"
		if q, ok := ss.s.quarantined[sk.Partition+"/"+sk.Name]; ok {
			sk.Err = "quarantined: " + q.cause
		}
	}
}

// add adds the per-block and per-record counters of o to st.
func (st *SearchStats) add(o *SearchStats) {
	st.Blocks += o.Blocks
	st.BlocksSkippedTime += o.BlocksSkippedTime
	st.BlocksSkippedIndex += o.BlocksSkippedIndex
	st.BlocksRead += o.BlocksRead
	st.BlocksRejected += o.BlocksRejected
	st.BytesRead += o.BytesRead
	st.HeadRecords += o.HeadRecords
	st.RecordsMatched += o.RecordsMatched
	st.BlocksSkippedStream += o.BlocksSkippedStream
	st.BlocksWhole += o.BlocksWhole
	st.BlocksCounted += o.BlocksCounted
	st.RecordsCounted += o.RecordsCounted
	st.BlocksByCode += o.BlocksByCode
	st.RecordsScanned += o.RecordsScanned
outer:
	for _, sk := range o.Skipped {
		for i := range st.Skipped {
			if have := &st.Skipped[i]; have.Partition == sk.Partition && have.Name == sk.Name {
				if have.Err == "" {
					have.Err = sk.Err
				}
				continue outer
			}
		}
		st.Skipped = append(st.Skipped, sk)
	}
}

func (s *Store) snapshot(req SearchRequest) (*view, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, errClosed
	}
	s.searches.Add(1)
	v := &view{}
	s.quarantinedInLocked(&req, v)
	heads := append(s.frozen[:len(s.frozen):len(s.frozen)], s.active)
	v.nheads = len(heads)
	for i, h := range heads {
		// The active head only grows; its chunks and offsets as long as
		// they are now are stable. The chunk list is copied because append
		// rewrites the last chunk's slice header in place.
		chunks := slices.Clone(h.chunks)
		for _, hs := range h.list {
			if hs.tenant != req.Tenant || hs.maxTime < req.From || req.To != 0 && hs.minTime >= req.To {
				continue
			}
			v.heads = append(v.heads, headView{hs: hs, offs: hs.offs[:len(hs.offs):len(hs.offs)], times: hs.times[:len(hs.offs):len(hs.offs)], chunks: chunks,
				minTime: hs.minTime, maxTime: hs.maxTime, head: i})
		}
	}
	suffix := tenantSuffix(req.Tenant)
	for partition, ps := range s.parts {
		// Another tenant's partition is passed over without looking at its
		// parts, and not counted: a search's statistics (explain) describe
		// its tenant's partitions only.
		if partitionSuffix(partition) != suffix {
			continue
		}
		v.partitions++
		if start, end, ok := partitionBounds(partition); ok && (end <= req.From || req.To != 0 && start >= req.To) {
			v.skipped++
			continue
		}
		for _, p := range ps {
			if p.maxTime < req.From || req.To != 0 && p.minTime >= req.To {
				v.partsSkip++
				continue
			}
			p.incRef()
			v.parts = append(v.parts, p)
		}
	}
	return v, nil
}

// blockScratch is the buffers a search reads and decodes blocks into,
// pooled so that a search does not grow them afresh: nothing passed to fn
// aliases them (see readBlock).
type blockScratch struct {
	block decodedBlock
	buf   []byte
	// codes is the code paths' scratch (searcher.codes), pooled here
	// rather than part of every searcher: at 13 KB it was most of what a
	// small search allocated, once per worker.
	codes codeScratch
}

// searcher carries one search's state and scratch buffers.
type searcher struct {
	s     *Store
	req   *SearchRequest
	fn    func(r *record.Record) error
	ctx   context.Context
	sc    *blockScratch
	rec   record.Record // a row of a part's block
	hrec  record.Record // a head record
	crec  record.Record // what Count sees of a block's records
	n     int
	stats SearchStats
	need  map[string]bool // SearchRequest.Fields as a set; nil for all
	// needList is need sorted, nil for all; withMsg says whether the
	// message is needed.
	needList []string
	withMsg  bool
	// countFields is what fn reads (SearchRequest.CountFields or Fields).
	countFields []string
	// fieldFilter is the one field the filter reads, "" when it reads more
	// (see FieldFilter).
	fieldFilter string
	// presenceOnly says that the filter is a PresenceFilter on
	// fieldFilter whose answer depends on presence alone.
	presenceOnly bool
	decs         decimalScratch
	hcount       headCount
	info         BlockInfo // the block or head stream being searched
	times        []int64   // scratch for the times of head records passed to Count
	runValues    []string  // scratch: the runs of a raw column, for CountValues
	runCounts    []int
	budget       *scanBudget
	// cpu is the CPU slot of the search's own goroutine (Store.Search),
	// given back while it waits for others; nil for the workers and the
	// searches that take none.
	cpu *cpuslot.Hold
	win rowWindow // of the block being searched
	// want is what the filter's tokens say of the values of fieldFilter
	// that can match (TokenFilter), for the hex columns of the blocks read.
	want hexWant
	// tokens are the hashes of the filter's whole tokens (TokenFilter),
	// which a block's bloom filter is asked about before the filter's
	// MayMatch.
	tokens tokenProbe
}

func (ss *searcher) inRange(t int64) bool {
	return t >= ss.req.From && (ss.req.To == 0 || t < ss.req.To)
}

func (ss *searcher) tick() error {
	ss.n++
	if ss.n%ctxCheckEvery == 0 {
		return ss.ctx.Err()
	}
	return nil
}

func (ss *searcher) emit(r *record.Record) error {
	if !ss.inRange(r.Time) || ss.req.Filter != nil && !ss.req.Filter.Match(r) {
		return nil
	}
	ss.stats.RecordsMatched++
	return ss.fn(r)
}

// searchChunk visits the blocks of index chunk ci of p.
func (ss *searcher) searchChunk(p *part, mi *metaIndex, ci int) error {
	if err := ss.ctx.Err(); err != nil {
		return err
	}
	if p.quarantined.Load() {
		// Another worker or search found it damaged.
		ss.lost(p, nil)
		return nil
	}
	c, err := p.chunk(mi, ci)
	if errors.Is(err, errCorrupt) {
		ss.lost(p, err)
		return nil
	}
	if err != nil {
		return err
	}
	ss.stats.Blocks += int64(len(c.metas))
	// Bit i%64 says that the bloom filter of block i rules out a token of
	// the filter's (tokenProbe), asked of the chunk's blocks at once (64
	// at most; a chunk has chunkBlocks).
	var ruledOut uint64
	for i := range c.metas {
		if i%64 == 0 && len(ss.tokens.hashes) > 0 {
			ruledOut = ss.tokens.ruledOut(c.metas[i:min(i+64, len(c.metas))])
		}
		if p.quarantined.Load() {
			ss.lost(p, nil)
			return nil
		}
		m := &c.metas[i]
		if m.tenant != ss.req.Tenant || m.maxTime < ss.req.From || ss.req.To != 0 && m.minTime >= ss.req.To {
			ss.stats.BlocksSkippedTime++
			ss.s.blocksSkipped.Add(1)
			continue
		}
		// In the searcher, not on the stack: the filter's MatchBlock
		// would move it to the heap for every block.
		ss.info = m.info()
		info := &ss.info
		if !ss.setWindow(m) {
			// The block's time index has no row in the range.
			ss.stats.BlocksSkippedTime++
			ss.s.blocksSkipped.Add(1)
			continue
		}
		// all says that every record of the block matches but for its
		// time, whole that every one is also in the search's range.
		whole, all := false, false
		switch ss.matchBlock(info) {
		case BlockNone:
			ss.stats.BlocksSkippedStream++
			ss.s.blocksSkipped.Add(1)
			continue
		case BlockAll:
			all = true
			whole = ss.covers(info)
		default:
			if ruledOut&(1<<(i%64)) != 0 || !ss.req.Filter.MayMatch(m) {
				ss.stats.BlocksSkippedIndex++
				ss.s.blocksSkipped.Add(1)
				continue
			}
			if ss.presenceOnly {
				match, decided, err := ss.matchPresence(p, c, i)
				if errors.Is(err, errCorrupt) {
					ss.lost(p, err)
					return nil
				}
				if err != nil {
					return err
				}
				if decided && !match {
					ss.stats.BlocksSkippedIndex++
					ss.s.blocksSkipped.Add(1)
					continue
				}
				all = decided
				whole = decided && ss.covers(info)
			}
		}
		countable := whole && ss.countable(info.Labels)
		if countable && ss.oneBucket(info) || !ss.req.CountTimes && (countable || all && ss.win.exact && ss.countable(info.Labels)) {
			n := m.records()
			if !whole {
				// The time index says how many rows are in the range.
				n = ss.win.hi - ss.win.lo
			}
			ss.stats.BlocksCounted++
			ss.stats.RecordsCounted += int64(n)
			ss.stats.RecordsMatched += int64(n)
			if err := ss.count(info, n, nil); err != nil {
				return err
			}
			continue
		}
		if whole {
			ss.stats.BlocksWhole++
		}
		// Rows the time index places outside the range are passed over
		// by every use of the block below (rowIn, inRange), so a hex
		// column need not spell them.
		d := &ss.sc.block
		d.spellRows, d.spellLo, d.spellHi = ss.win.ok, ss.win.lo, ss.win.hi
		// A block the range cuts where its time index cannot place the
		// rows needs its times: read them with the other columns.
		d.prefetchTimes = !ss.covers(info) && !ss.win.exact
		ss.sc.buf, err = p.readBlock(c, i, ss.sc.buf, d, ss.need, true)
		if errors.Is(err, errCorrupt) {
			// A damaged part must not fail every query that meets it:
			// it leaves service, and the search goes on with the rest.
			ss.lost(p, err)
			return nil
		}
		if err != nil {
			return err
		}
		ss.s.blocksRead.Add(1)
		ss.stats.BlocksRead++
		if d.noMatch {
			// The filter's field column holds none of the tokens every
			// match holds: nothing of the block was decoded or handed on.
			ss.stats.BlocksRejected++
			ss.stats.BytesRead += d.bytesRead
			ss.stats.RecordsScanned += int64(d.rows)
			if err := ss.budget.charge(int64(d.rows), d.bytesRead); err != nil {
				return err
			}
			d.rawFree = true
			continue
		}
		sel := ss.selectByCode(d, info, whole)
		cc, byCode := ss.planCount(d, info, whole, sel)
		if countable || !byCode || ss.req.CountTimes || !ss.covers(info) && !ss.win.exact && ss.selectedInWindow(d, sel) {
			err := d.loadTimes()
			if errors.Is(err, errCorrupt) {
				ss.lost(p, fmt.Errorf("decode block of part %s at %d: %w", p.name, m.offset, err))
				return nil
			}
			if err != nil {
				return err
			}
		}
		ss.stats.BytesRead += d.bytesRead
		ss.stats.RecordsScanned += int64(d.rows)
		if err := ss.budget.charge(int64(d.rows), d.bytesRead); err != nil {
			return err
		}
		if countable {
			// Every name in need is a label, so only the times were read.
			ss.stats.RecordsCounted += int64(d.rows)
			ss.stats.RecordsMatched += int64(d.rows)
			if err := ss.count(info, d.rows, d.times); err != nil {
				return err
			}
			d.rawFree = true // only the stream labels and times were handed on
			continue
		}
		if byCode {
			if err := ss.countByCode(d, info, sel, cc); err != nil {
				return err
			}
			// Count copies what it keeps of r: the block's buffer
			// may take the next block's columns.
			d.rawFree = true
			continue
		}
		if sel != nil {
			ss.stats.BlocksByCode++
		}
		if err := ss.emitRows(m, info, whole, sel); err != nil {
			return err
		}
	}
	return nil
}

// lost quarantines p, which a read found damaged (cause; nil when another
// read did), and notes that the search's answer lacks the rest of it.
func (ss *searcher) lost(p *part, cause error) {
	sk := SkippedPart{Partition: p.partition, Name: p.name}
	if cause != nil {
		ss.s.quarantineServed(p, cause)
		sk.Err = "quarantined: " + cause.Error()
	}
	ss.stats.add(&SearchStats{Skipped: []SkippedPart{sk}})
}

func (ss *searcher) searchHead(hv *headView) error {
	ss.info = BlockInfo{Tenant: hv.hs.tenant, Labels: hv.hs.labels, MinTime: hv.minTime, MaxTime: hv.maxTime}
	info := &ss.info
	whole := false
	switch ss.matchBlock(info) {
	case BlockNone:
		return nil
	case BlockAll:
		whole = ss.covers(info)
		// The times of head records are known only by decoding them.
		if whole && (!ss.req.CountTimes || ss.oneBucket(info)) && ss.countable(info.Labels) {
			ss.stats.RecordsCounted += int64(len(hv.offs))
			ss.stats.RecordsMatched += int64(len(hv.offs))
			return ss.count(info, len(hv.offs), nil)
		}
	}
	ss.stats.RecordsScanned += int64(len(hv.offs))
	if err := ss.budget.charge(int64(len(hv.offs)), 0); err != nil {
		return err
	}
	if whole && ss.countable(info.Labels) {
		return ss.countHeadTimes(hv, info)
	}
	if done, err := ss.countHead(hv, info, whole); done || err != nil {
		return err
	}
	for i, off := range hv.offs {
		c := cursorAt(hv.chunks, off)
		c.nextNeeded(&ss.hrec, ss.withMsg, ss.needList)
		ss.hrec.Time = hv.times[i]
		// Set for every record: fn may have rebound the record's fields.
		ss.hrec.Tenant = hv.hs.tenant
		ss.hrec.Stream = hv.hs.labels
		if err := ss.tick(); err != nil {
			return err
		}
		ss.stats.HeadRecords++
		if err := ss.emitIf(whole, &ss.hrec); err != nil {
			return err
		}
	}
	return nil
}

// emitRows passes the rows of the block just read that match to fn; sel,
// when not nil, has decided which do.
func (ss *searcher) emitRows(m *blockMeta, b *BlockInfo, whole bool, sel *codeSelection) error {
	covered := ss.covers(b)
	ss.rec.Tenant = m.tenant
	ss.rec.Stream = m.labels
	d := &ss.sc.block
	d.rewind()
	if sel != nil {
		sel.rewind()
	}
	for row := range d.times {
		if err := ss.tick(); err != nil {
			return err
		}
		if sel != nil {
			if !sel.next(row) {
				d.skipRow(row)
				continue
			}
			if !covered && !ss.inRange(d.times[row]) {
				d.skipRow(row)
				continue
			}
			d.row(row, &ss.rec)
			if err := ss.emitIf(true, &ss.rec); err != nil {
				return err
			}
			continue
		}
		d.row(row, &ss.rec)
		if err := ss.emitIf(whole, &ss.rec); err != nil {
			return err
		}
	}
	return nil
}

// emitIf passes r to fn when it matches; whole says that it does, as the
// block-level answer found for every record of its block.
func (ss *searcher) emitIf(whole bool, r *record.Record) error {
	if !whole {
		return ss.emit(r)
	}
	ss.stats.RecordsMatched++
	return ss.fn(r)
}
