package query

import (
	"container/heap"
	"sort"
)

// topRows keeps the first limit rows in the order of less, ties broken by
// arrival as a stable sort breaks them, in a heap whose root is the last
// row kept: a row that does not precede it is dropped at once. It returns
// exactly what a stable sort cut to limit rows returns.
type topRows struct {
	limit int
	less  func(a, b Row) bool
	rows  []seqRow
	n     int // rows offered so far: the arrival order
	// tie, when set, breaks ties instead of the arrival order: the order
	// of the stats groups the rows were made of (see offerGroup).
	tie func(a, b *statsGroup) int
}

type seqRow struct {
	row   Row
	seq   int
	group *statsGroup
}

// before orders by less, then by arrival (or tie).
func (t *topRows) before(a, b seqRow) bool {
	if t.less(a.row, b.row) {
		return true
	}
	if t.less(b.row, a.row) {
		return false
	}
	if t.tie != nil {
		return t.tie(a.group, b.group) < 0
	}
	return a.seq < b.seq
}

func (t *topRows) offer(r Row) {
	t.add(seqRow{row: r, seq: t.n})
	t.n++
}

// offerGroup offers the row of stats group g, to be ordered by tie among
// equals. It returns a values buffer for the next row: r's own when r was
// not kept, or that of the row r pushed out.
func (t *topRows) offerGroup(r Row, g *statsGroup) []Value {
	return t.add(seqRow{row: r, group: g})
}

// add keeps sr if it is among the first limit rows, and returns the
// values of the row left out (sr's or the one it replaced), or nil.
func (t *topRows) add(sr seqRow) []Value {
	switch {
	case t.limit <= 0:
		return sr.row.Values
	case len(t.rows) < t.limit:
		heap.Push((*topHeap)(t), sr)
		return nil
	case t.before(sr, t.rows[0]):
		out := t.rows[0].row.Values
		t.rows[0] = sr
		heap.Fix((*topHeap)(t), 0)
		return out
	}
	return sr.row.Values
}

// last is the last row kept, and its stats group, when the rows kept
// are limit: a row that does not come before it is dropped (full is
// false before).
func (t *topRows) last() (r Row, g *statsGroup, full bool) {
	if t.limit <= 0 || len(t.rows) < t.limit {
		return Row{}, nil, false
	}
	return t.rows[0].row, t.rows[0].group, true
}

// sorted is the rows kept, first first.
func (t *topRows) sorted() []Row {
	sort.Slice(t.rows, func(i, j int) bool { return t.before(t.rows[i], t.rows[j]) })
	out := make([]Row, len(t.rows))
	for i, sr := range t.rows {
		out[i] = sr.row
	}
	return out
}

// topHeap is topRows as a heap.Interface with the last row at the root.
type topHeap topRows

func (h *topHeap) Len() int           { return len(h.rows) }
func (h *topHeap) Less(i, j int) bool { return (*topRows)(h).before(h.rows[j], h.rows[i]) }
func (h *topHeap) Swap(i, j int)      { h.rows[i], h.rows[j] = h.rows[j], h.rows[i] }
func (h *topHeap) Push(x any)         { h.rows = append(h.rows, x.(seqRow)) }
func (h *topHeap) Pop() any {
	last := h.rows[len(h.rows)-1]
	h.rows = h.rows[:len(h.rows)-1]
	return last
}
