package store

// This file holds the tight loops of counting a block by codes
// (countByCode) when no row's time matters, and the counting of a block
// grouped by a raw column (countByRaw), which hands Count each run of
// equal values instead of building the rows.

import "github.com/sluice-log/sluice/internal/record"

// codeCounts is a count per code of a dictionary column, absentCode for
// rows without the field.
type codeCounts = [absentCode + 1]int

// quadCounts is four partial codeCounts that a pass over codes fills in
// turn: a run of equal codes (most rows of a level column) then adds to
// four counters instead of waiting on one.
type quadCounts [4][absentCode + 1]uint32

// quadMin is the fewest codes worth clearing and adding up a quadCounts.
const quadMin = 1024

// countCovered fills counts (zeroed) with the matching rows of a block of
// rows rows that lies inside the search's range and whose times are not
// wanted: per code of cc's group column, or all in counts[0] when cc
// groups by nothing. sel, when not nil, selects the rows; sameColumn
// says that it selects by the codes of the group column itself. q is
// scratch. It gives what countByCode's row loop gives, without walking
// the rows one cursor step at a time where a pass over the codes
// suffices.
func countCovered(counts *codeCounts, q *quadCounts, rows int, sel *codeSelection, cc codeCount, sameColumn bool) {
	switch {
	case cc.group == "" && sel == nil:
		counts[0] = rows
	case cc.group == "" && sel.byRow:
		counts[0] = countTrue(sel.rows[:rows])
	case cc.group == "":
		counts[0] = countSelected(sel, rows)
	case sel == nil:
		histogram(counts, q, cc.cur, rows)
	case !sel.byRow && sameColumn:
		histogram(counts, q, cc.cur, rows)
		for code := range counts {
			if !sel.match[code] {
				counts[code] = 0
			}
		}
	case sel.byRow:
		gc := cc.cur
		if gc.bitmap == "" && gc.codes != "" {
			for row, m := range sel.rows[:rows] {
				if m {
					counts[gc.codes[row]]++
				}
			}
			return
		}
		for row, m := range sel.rows[:rows] {
			code := gc.next(row)
			if m {
				counts[code]++
			}
		}
	default:
		sc, gc := sel.cur, cc.cur
		if sc.bitmap == "" && gc.bitmap == "" && sc.codes != "" && gc.codes != "" {
			// Both columns dense: the codes line up with the rows.
			s, g := sc.codes[:rows], gc.codes[:rows]
			for row := range s {
				if sel.match[s[row]] {
					counts[g[row]]++
				}
			}
			return
		}
		for row := range rows {
			s, g := sc.next(row), gc.next(row)
			if sel.match[s] {
				counts[g]++
			}
		}
	}
}

// countRange is countCovered for the rows [lo, hi) of a block, which
// alone lie in the search's range: the columns' codes of those rows are
// one slice when every row has the field (or none is coded, a constant
// column). It reports false, having counted nothing, when a column that
// sel or cc reads has rows without the field: their codes are not
// placed by row without walking the bitmap.
func countRange(counts *codeCounts, q *quadCounts, lo, hi int, sel *codeSelection, cc codeCount, sameColumn bool) bool {
	part := func(c codeCursor) (codeCursor, bool) {
		if c.bitmap != "" {
			return c, false
		}
		if c.codes != "" {
			c.codes = c.codes[lo:hi]
		}
		c.p = 0
		return c, true
	}
	ok := true
	if cc.group != "" {
		cc.cur, ok = part(cc.cur)
	}
	var s codeSelection
	if ok && sel != nil {
		if sel.byRow {
			s.byRow, s.rows = true, sel.rows[lo:hi]
		} else {
			s.match = sel.match
			s.cur, ok = part(sel.cur)
		}
		sel = &s
	}
	if !ok {
		return false
	}
	countCovered(counts, q, hi-lo, sel, cc, sameColumn)
	return true
}

// countSelected is how many of a block's rows rows sel selects by the
// codes of its column: a sum of 0 or 1 per code, with no branch and no
// counter that one row waits on the row before for.
func countSelected(sel *codeSelection, rows int) int {
	cur := sel.cur
	present := rows
	if cur.bitmap != "" {
		present = popcount(cur.bitmap)
	}
	n := 0
	if sel.match[absentCode] {
		n = rows - present
	}
	if cur.codes == "" { // a constant column
		if sel.match[0] {
			n += present
		}
		return n
	}
	var one [256]uint8
	for code := range one {
		if sel.match[code] {
			one[code] = 1
		}
	}
	for i := 0; i < len(cur.codes); i++ {
		n += int(one[cur.codes[i]])
	}
	return n
}

// histogram adds to h the rows of a block of rows rows per code of the
// column cur walks (absentCode for rows without the field). q is
// scratch.
func histogram(h *codeCounts, q *quadCounts, cur codeCursor, rows int) {
	present := rows
	if cur.bitmap != "" {
		present = popcount(cur.bitmap)
	}
	h[absentCode] += rows - present
	codes := cur.codes
	switch {
	case codes == "":
		h[0] += present // a constant column
	case len(codes) < quadMin:
		for i := 0; i < len(codes); i++ {
			h[codes[i]]++
		}
	default:
		clear(q[:])
		i := 0
		for ; i+4 <= len(codes); i += 4 {
			q[0][codes[i]]++
			q[1][codes[i+1]]++
			q[2][codes[i+2]]++
			q[3][codes[i+3]]++
		}
		for ; i < len(codes); i++ {
			q[0][codes[i]]++
		}
		for code := range h {
			h[code] += int(q[0][code] + q[1][code] + q[2][code] + q[3][code])
		}
	}
}

func countTrue(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// countRun passes n matching records of b whose field group is value to
// Count, or keeps them for one CountValues call per block (countByRaw).
func (ss *searcher) countRun(b *BlockInfo, group, value string, n int) error {
	if ss.req.CountValues == nil {
		return ss.countGroup(b, group, value, n, nil)
	}
	if len(ss.runValues) == 0 {
		ss.crec = record.Record{Tenant: b.Tenant, Stream: b.Labels}
	}
	ss.runValues = append(ss.runValues, value)
	ss.runCounts = append(ss.runCounts, n)
	ss.stats.RecordsCounted += int64(n)
	ss.stats.RecordsMatched += int64(n)
	return nil
}

// countByRaw passes the matching rows of d to Count grouped by the raw
// column cc names: one call per run of rows with equal values (ids that
// repeat come in runs, distinct ones cost a comparison each), and one for
// the rows without the field. Times are read only for a block the search's
// range does not cover (then loaded by the caller).
func (ss *searcher) countByRaw(d *decodedBlock, b *BlockInfo, sel *codeSelection, cc codeCount) error {
	covered := ss.covers(b)
	if sel != nil {
		sel.rewind()
	}
	values, bitmap := cc.values, cc.rawBitmap
	p, absent := 0, 0
	run, runValue := 0, ""
	for row := range d.rows {
		has := !cc.missing && (bitmap == "" || bitmap[row/8]&(1<<(row%8)) != 0)
		v := ""
		if has {
			v = values[p]
			p++
		}
		if sel != nil && !sel.next(row) || !covered && !ss.rowIn(d, row) {
			continue
		}
		switch {
		case !has:
			absent++
		case run > 0 && v == runValue:
			run++
		default:
			if run > 0 {
				if err := ss.countRun(b, cc.group, runValue, run); err != nil {
					return err
				}
			}
			run, runValue = 1, v
		}
	}
	ss.stats.BlocksByCode++
	if run > 0 {
		if err := ss.countRun(b, cc.group, runValue, run); err != nil {
			return err
		}
	}
	if len(ss.runValues) > 0 {
		err := ss.req.CountValues(&ss.crec, cc.group, ss.runValues, ss.runCounts)
		clear(ss.runValues) // views of the block's buffer
		ss.runValues, ss.runCounts = ss.runValues[:0], ss.runCounts[:0]
		if err != nil {
			return err
		}
	}
	if absent > 0 {
		return ss.countGroup(b, "", "", absent, nil)
	}
	return nil
}
