package store

import (
	"slices"

	"github.com/sluice-log/sluice/internal/record"
)

// This file holds the search's block-level shortcuts: a BlockMatcher
// filter answers once for a block or head stream, so that its rows are not
// matched one by one, and a wholly matching block whose records the caller
// only counts (SearchRequest.Count) is not read at all.

// matchBlock is the filter's answer for a whole block; no filter selects
// everything, and a filter that is no BlockMatcher leaves it to Match.
func (ss *searcher) matchBlock(b *BlockInfo) BlockMatch {
	if ss.req.Filter == nil {
		return BlockAll
	}
	if bm, ok := ss.req.Filter.(BlockMatcher); ok {
		return bm.MatchBlock(b)
	}
	return BlockSome
}

// covers reports whether the search's time range holds every record of b,
// so that no record's time needs a check.
func (ss *searcher) covers(b *BlockInfo) bool {
	return b.MinTime >= ss.req.From && (ss.req.To == 0 || b.MaxTime < ss.req.To)
}

// rowWindow is the rows of the block being searched that can lie in the
// search's range, from the block's time index (see blockMeta.rowWindow),
// when the range does not cover the block: rows outside [lo, hi) do not,
// and when exact is set every row inside does. ok is false when the block
// is covered or has no time index.
type rowWindow struct {
	lo, hi    int
	exact, ok bool
}

// setWindow sets ss.win for block m and reports whether any of its rows
// can lie in the search's range.
func (ss *searcher) setWindow(m *blockMeta) bool {
	ss.win = rowWindow{}
	if ss.covers(&ss.info) {
		return true
	}
	ss.win = m.rowWindow(ss.req.From, ss.req.To)
	return !ss.win.ok || ss.win.lo < ss.win.hi
}

// rowIn reports whether row of d, the block just read, lies in the
// search's range: by the time index alone when it is exact, else by the
// row's time, which must be loaded.
func (ss *searcher) rowIn(d *decodedBlock, row int) bool {
	w := &ss.win
	if w.ok && (row < w.lo || row >= w.hi) {
		return false
	}
	return w.exact || ss.inRange(d.times[row])
}

// rowsInRange is the rows [lo, hi) of d, the block just read, that lie in
// the search's range, when they are one run of rows: the time index's
// window when it is exact, else the rows of the window whose times (which
// must be loaded and sorted) a binary search places in the range. ok is
// false when that cannot be told without looking at every row: the
// times are not loaded (no selected row lies in the window, see
// selectedInWindow) or not sorted.
func (ss *searcher) rowsInRange(d *decodedBlock) (lo, hi int, ok bool) {
	w := &ss.win
	if w.ok && w.exact {
		return w.lo, w.hi, true
	}
	if !d.timesLoaded || len(d.times) != d.rows {
		return 0, 0, false
	}
	lo, hi = 0, d.rows
	if w.ok {
		// A block with a time index has sorted times.
		lo, hi = w.lo, w.hi
	} else if !slices.IsSorted(d.times) {
		return 0, 0, false
	}
	ts := d.times[lo:hi]
	from, _ := slices.BinarySearch(ts, ss.req.From)
	to := len(ts)
	if ss.req.To != 0 {
		to, _ = slices.BinarySearch(ts, ss.req.To)
	}
	return lo + from, lo + max(from, to), true
}

// selectedInWindow reports whether a row that sel selects (every row
// when nil) lies in the rows of d, the block just read, that the time
// index cannot place (ss.win, the whole block without one): a count by
// code needs the block's times only then, since it asks rowIn about
// selected rows alone. A word found in few records spares reading and
// parsing the times of most blocks that a range's ends cut.
func (ss *searcher) selectedInWindow(d *decodedBlock, sel *codeSelection) bool {
	lo, hi := 0, d.rows
	if ss.win.ok {
		lo, hi = ss.win.lo, ss.win.hi
	}
	if sel == nil || lo >= hi {
		return lo < hi
	}
	if sel.byRow {
		return slices.Contains(sel.rows[lo:hi], true)
	}
	if cur := sel.cur; cur.bitmap == "" {
		// Every row has the field: its codes line up with the rows.
		if cur.codes == "" {
			return sel.match[0]
		}
		for i := lo; i < hi; i++ {
			if sel.match[cur.codes[i]] {
				return true
			}
		}
		return false
	}
	sel.rewind()
	defer sel.rewind()
	for row := range hi {
		if sel.next(row) && row >= lo {
			return true
		}
	}
	return false
}

// countable reports whether the caller may be given a block's records as a
// count: it asked for counts, and every field it reads is one of the
// block's stream labels, which the record passed to Count holds.
func (ss *searcher) countable(labels []record.Field) bool {
	if ss.req.Count == nil || ss.req.Fields == nil {
		return false
	}
	for _, f := range ss.countFields {
		if !hasLabel(labels, f) {
			return false
		}
	}
	return true
}

func hasLabel(labels []record.Field, name string) bool {
	for _, l := range labels {
		if l.Name == name {
			return true
		}
	}
	return false
}

// oneBucket reports whether the times of b's records all lie in one of
// the buckets the caller counts times by (SearchRequest.CountBucket), so
// that they can be counted without reading them.
func (ss *searcher) oneBucket(b *BlockInfo) bool {
	w := ss.req.CountBucket
	return ss.req.CountTimes && w > 0 && floorDiv(b.MinTime, w) == floorDiv(b.MaxTime, w)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// count passes n wholly matching records of b, with their times when the
// caller asked for them, to the caller's Count. Without times, the
// record passed has b's first time, which lies in the bucket of every
// one when the caller counts by buckets (oneBucket).
func (ss *searcher) count(b *BlockInfo, n int, times []int64) error {
	if n == 0 {
		return nil
	}
	ss.crec = record.Record{Tenant: b.Tenant, Stream: b.Labels, Time: b.MinTime}
	return ss.req.Count(&ss.crec, n, times)
}

// info is what every record of the block shares, for BlockMatcher.
func (m *blockMeta) info() BlockInfo {
	return BlockInfo{Tenant: m.tenant, Labels: m.labels, MinTime: m.minTime, MaxTime: m.maxTime}
}

// records is the block's record count, from its index entry.
func (m *blockMeta) records() int { return m.count }

// presentValue stands for the field's value when a PresenceFilter is asked
// about a record that has it: any non-empty value gets the same answer.
const presentValue = "1"

// matchPresence decides block bi of p for a filter whose answer depends
// only on the presence of its field (PresenceFilter), when the block
// lacks the field (its index entry says) or holds a non-empty value in
// every row (its column directory says): then every record gets the same
// answer, match. decided is false when the rows differ or may differ.
// The block's header is read (once; the part keeps it) when the index
// cannot tell.
func (ss *searcher) matchPresence(p *part, c *indexChunk, bi int) (match, decided bool, err error) {
	m := &c.metas[bi]
	name := ss.fieldFilter
	if hasLabel(m.labels, name) {
		return false, false, nil
	}
	probe := &ss.hcount.probe
	*probe = record.Record{Tenant: m.tenant, Stream: m.labels}
	defer func() { *probe = record.Record{} }()
	fi, found := slices.BinarySearch(m.fields, name)
	if !found {
		return ss.req.Filter.Match(probe), true, nil
	}
	kept := c.headers[bi].Load() != nil
	h, err := p.header(c, bi, &ss.sc.block)
	if err != nil {
		return false, false, err
	}
	if !kept {
		ss.stats.BytesRead += int64(m.headerLen)
	}
	if !h.dirs[fi+2].full {
		return false, false, nil
	}
	one := &ss.hcount.one
	one[0] = record.Field{Name: name, Value: presentValue}
	probe.Fields = one[:]
	return ss.req.Filter.Match(probe), true, nil
}
