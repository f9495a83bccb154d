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
}

func (h *newestHeap) offer(r *record.Record) error {
	if len(h.recs) < h.limit {
		c := r.Clone()
		h.recs = append(h.recs, &c)
		h.up(len(h.recs) - 1)
		return nil
	}
	if r.Time <= h.recs[0].Time {
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
		if h.recs[parent].Time <= h.recs[i].Time {
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
			if c < len(h.recs) && h.recs[c].Time < h.recs[least].Time {
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

// sorted returns the kept records, newest first.
func (h *newestHeap) sorted() []*record.Record {
	sort.SliceStable(h.recs, func(i, j int) bool { return h.recs[i].Time > h.recs[j].Time })
	return h.recs
}
