package query

import (
	"fmt"
	"sort"
	"unsafe"

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
	// maxBytes bounds what the kept records take (Options.MaxResultBytes);
	// 0 means no bound. bytes is what they take now.
	maxBytes, bytes int64
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
	if h.maxBytes <= 0 {
		return nil
	}
	h.bytes += keptBytes(r)
	if old != nil {
		h.bytes -= keptBytes(old)
	}
	if h.bytes > h.maxBytes {
		return &ResultLimitError{Max: h.maxBytes}
	}
	return nil
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
		if err := h.keep(r, nil); err != nil {
			return err
		}
		c := r.Clone()
		h.recs = append(h.recs, &c)
		h.up(len(h.recs) - 1)
		return nil
	}
	if !h.worse(h.recs[0].Time, r.Time) {
		return nil
	}
	if err := h.keep(r, h.recs[0]); err != nil {
		return err
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
