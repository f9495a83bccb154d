package query

import (
	"sort"

	"github.com/sluice-log/sluice/internal/record"
)

// newestHeap keeps the newest limit records seen: a min-heap on time, so
// the oldest kept record is at the root and is the one a newer record
// replaces. Records are cloned only when kept.
type newestHeap struct {
	limit int
	recs  []*record.Record
	// oldest turns the heap around: it keeps the oldest records, for the
	// records after a hit in Context.
	oldest bool
}

// worse reports whether a is a worse candidate to keep than b.
func (h *newestHeap) worse(a, b int64) bool {
	if h.oldest {
		return a > b
	}
	return a < b
}

func (h *newestHeap) offer(r *record.Record) error {
	if len(h.recs) < h.limit {
		c := r.Clone()
		h.recs = append(h.recs, &c)
		h.up(len(h.recs) - 1)
		return nil
	}
	if !h.worse(h.recs[0].Time, r.Time) {
		return nil
	}
	c := r.Clone()
	h.recs[0] = &c
	h.down(0)
	return nil
}

func (h *newestHeap) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !h.worse(h.recs[i].Time, h.recs[parent].Time) {
			return
		}
		h.recs[parent], h.recs[i] = h.recs[i], h.recs[parent]
		i = parent
	}
}

func (h *newestHeap) down(i int) {
	for {
		least := i
		for _, c := range [2]int{2*i + 1, 2*i + 2} {
			if c < len(h.recs) && h.worse(h.recs[c].Time, h.recs[least].Time) {
				least = c
			}
		}
		if least == i {
			return
		}
		h.recs[least], h.recs[i] = h.recs[i], h.recs[least]
		i = least
	}
}

// sorted returns the kept records, best first: newest first, or oldest
// first for an oldest heap.
func (h *newestHeap) sorted() []*record.Record {
	sort.SliceStable(h.recs, func(i, j int) bool { return h.worse(h.recs[j].Time, h.recs[i].Time) })
	return h.recs
}
