package query

import (
	"fmt"
	"sort"
	"unsafe"

	"github.com/sluice-log/sluice/internal/record"
)

// newestHeap keeps the newest limit records seen: a min-heap on time, so
// the oldest kept record is at the root and is the one a newer record
// replaces. Records are cloned only when kept. Records of the same time
// are ordered by when they were offered: a search offers a block's
// records in the order they were appended, so a burst logged in one
// millisecond reads in its order (newest first: the last appended first)
// rather than in the heap's.
type newestHeap struct {
	limit int
	recs  []*record.Record
	// seqs[i] is when recs[i] was offered; next is the next offer's.
	seqs []uint64
	next uint64
	// oldest turns the heap around: it keeps the oldest records, for the
	// records after a hit in Context.
	oldest bool
	// maxBytes bounds what the kept records take (Options.MaxResultBytes);
	// 0 means no bound. bytes is what they take now, charged to meter
	// (Options.Results) until release.
	maxBytes, bytes int64
	meter           *ResultMeter
}

// ResultLimitError stops a query whose kept records (the newest Limit of
// a search, the records around a hit) take more than Options.MaxResultBytes.
type ResultLimitError struct{ Max int64 }

func (e *ResultLimitError) Error() string {
	return fmt.Sprintf("query: the records kept for the answer take more than %d bytes", e.Max)
}

// keptBytes is what a kept record costs: its strings (record.Size), its
// struct and field slices, and the heap's pointer to it.
func keptBytes(r *record.Record) int64 {
	return int64(r.Size()) + int64(unsafe.Sizeof(record.Record{})) +
		int64(len(r.Stream)+len(r.Fields))*int64(unsafe.Sizeof(record.Field{})) + 8
}

// keep accounts r in place of old (nil when r is added), failing past
// maxBytes.
func (h *newestHeap) keep(r, old *record.Record) error {
	if h.maxBytes <= 0 && h.meter == nil {
		return nil
	}
	d := keptBytes(r)
	if old != nil {
		d -= keptBytes(old)
	}
	h.bytes += d
	h.meter.charge(d)
	if h.maxBytes > 0 && h.bytes > h.maxBytes {
		return &ResultLimitError{Max: h.maxBytes}
	}
	return nil
}

// release gives back to the meter what the heap was charged; the query
// that owns the heap calls it when it returns.
func (h *newestHeap) release() {
	h.meter.charge(-h.bytes)
	h.meter = nil
}

// worse reports whether the record of time a offered at seq sa is a
// worse candidate to keep than the one of time b offered at sb: older
// (newer for an oldest heap), or as old and offered earlier (later).
func (h *newestHeap) worse(a int64, sa uint64, b int64, sb uint64) bool {
	if a == b {
		if h.oldest {
			return sa > sb
		}
		return sa < sb
	}
	if h.oldest {
		return a > b
	}
	return a < b
}

func (h *newestHeap) worseAt(i, j int) bool {
	return h.worse(h.recs[i].Time, h.seqs[i], h.recs[j].Time, h.seqs[j])
}

func (h *newestHeap) swap(i, j int) {
	h.recs[i], h.recs[j] = h.recs[j], h.recs[i]
	h.seqs[i], h.seqs[j] = h.seqs[j], h.seqs[i]
}

func (h *newestHeap) offer(r *record.Record) error {
	seq := h.next
	h.next++
	if len(h.recs) < h.limit {
		if err := h.keep(r, nil); err != nil {
			return err
		}
		c := r.Clone()
		h.recs = append(h.recs, &c)
		h.seqs = append(h.seqs, seq)
		h.up(len(h.recs) - 1)
		return nil
	}
	if !h.worse(h.recs[0].Time, h.seqs[0], r.Time, seq) {
		return nil
	}
	if err := h.keep(r, h.recs[0]); err != nil {
		return err
	}
	c := r.Clone()
	h.recs[0] = &c
	h.seqs[0] = seq
	h.down(0)
	return nil
}

func (h *newestHeap) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !h.worseAt(i, parent) {
			return
		}
		h.swap(parent, i)
		i = parent
	}
}

func (h *newestHeap) down(i int) {
	for {
		least := i
		for _, c := range [2]int{2*i + 1, 2*i + 2} {
			if c < len(h.recs) && h.worseAt(c, least) {
				least = c
			}
		}
		if least == i {
			return
		}
		h.swap(least, i)
		i = least
	}
}

// sorted returns the kept records, best first: newest first, or oldest
// first for an oldest heap; records of one time by when they were offered
// (the last first, or the first first for an oldest heap).
func (h *newestHeap) sorted() []*record.Record {
	sort.Sort((*bestFirst)(h))
	return h.recs
}

// bestFirst sorts a heap's records best first.
type bestFirst newestHeap

func (b *bestFirst) Len() int           { return len(b.recs) }
func (b *bestFirst) Less(i, j int) bool { return (*newestHeap)(b).worseAt(j, i) }
func (b *bestFirst) Swap(i, j int)      { (*newestHeap)(b).swap(i, j) }
