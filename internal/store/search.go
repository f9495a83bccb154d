package store

import (
	"context"

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
	heads [][]record.Record
	parts []*part
}

func (v *view) release() {
	for _, p := range v.parts {
		p.decRef()
	}
}

// Search implements Searcher. It visits parts first, then the in-memory
// heads; records passed to fn alias internal buffers and are reused.
func (s *Store) Search(ctx context.Context, req SearchRequest, fn func(r *record.Record) error) error {
	v, err := s.snapshot(req)
	if err != nil {
		return err
	}
	defer s.searches.Done()
	defer v.release()
	ss := searcher{s: s, req: &req, fn: fn, ctx: ctx}
	for _, p := range v.parts {
		if err := ss.searchPart(p); err != nil {
			return err
		}
	}
	for _, recs := range v.heads {
		if err := ss.searchRecords(recs); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) snapshot(req SearchRequest) (*view, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, errClosed
	}
	s.searches.Add(1)
	v := &view{}
	for _, h := range s.frozen {
		v.heads = append(v.heads, h.recs)
	}
	// The active head only grows; a prefix of it is stable.
	v.heads = append(v.heads, s.active.recs[:len(s.active.recs):len(s.active.recs)])
	for partition, ps := range s.parts {
		start, end, ok := partitionBounds(partition)
		if ok && (end <= req.From || req.To != 0 && start >= req.To) {
			continue
		}
		for _, p := range ps {
			if p.maxTime < req.From || req.To != 0 && p.minTime >= req.To {
				continue
			}
			p.incRef()
			v.parts = append(v.parts, p)
		}
	}
	return v, nil
}

// searcher carries one search's state and scratch buffers.
type searcher struct {
	s     *Store
	req   *SearchRequest
	fn    func(r *record.Record) error
	ctx   context.Context
	block decodedBlock
	buf   []byte
	rec   record.Record // a row of a part's block
	hrec  record.Record // a head record; kept apart so rec never writes into a head
	n     int
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
	return ss.fn(r)
}

func (ss *searcher) searchPart(p *part) error {
	if err := ss.ctx.Err(); err != nil {
		return err
	}
	for i := range p.blocks {
		m := &p.blocks[i]
		if m.tenant != ss.req.Tenant || m.maxTime < ss.req.From || ss.req.To != 0 && m.minTime >= ss.req.To ||
			ss.req.Filter != nil && !ss.req.Filter.MayMatch(m) {
			ss.s.blocksSkipped.Add(1)
			continue
		}
		var err error
		ss.buf, err = p.readBlock(m, ss.s.dec, ss.buf, &ss.block)
		if err != nil {
			return err
		}
		ss.s.blocksRead.Add(1)
		ss.rec.Tenant = m.tenant
		ss.rec.Stream = m.labels
		ss.block.rewind()
		for row := range ss.block.times {
			if err := ss.tick(); err != nil {
				return err
			}
			ss.block.row(row, &ss.rec)
			if err := ss.emit(&ss.rec); err != nil {
				return err
			}
		}
	}
	return nil
}

func (ss *searcher) searchRecords(recs []record.Record) error {
	for i := range recs {
		if err := ss.tick(); err != nil {
			return err
		}
		if recs[i].Tenant != ss.req.Tenant {
			continue
		}
		// A shallow copy keeps fn from rebinding the head's record.
		ss.hrec = recs[i]
		if err := ss.emit(&ss.hrec); err != nil {
			return err
		}
	}
	return nil
}
