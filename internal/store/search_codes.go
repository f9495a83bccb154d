package store

import (
	"github.com/sluice-log/sluice/internal/record"
)

// This file holds the search's shortcuts over dictionary columns: a filter
// that reads one field (FieldFilter) is asked once per distinct value of
// the block's column for that field, and rows are selected by their code
// (for a raw column, asked about each row's value alone, which spares
// building the rows);
// a count grouped by one field (SearchRequest.CountFields) adds up the
// rows per code (a raw column's rows per run of equal values, see
// search_count.go) and passes each value's count to Count, so that
// neither builds a record per row.

// absentCode is the bucket of rows that lack the field.
const absentCode = maxDictValues + 1

// codeScratch is one search's buffers for the code paths.
type codeScratch struct {
	sel    codeSelection
	counts [absentCode + 1]int
	quad   quadCounts // scratch of countCovered
	times  [absentCode + 1][]int64
	field  [1]record.Field
}

// codeCursor walks a dictionary or constant column row by row.
type codeCursor struct {
	codes, bitmap string
	p             int // the next present row's index into codes
}

// next is row's code, absentCode when the row lacks the field; rows must
// come in order from 0.
func (c *codeCursor) next(row int) int {
	if c.bitmap != "" && c.bitmap[row/8]&(1<<(row%8)) == 0 {
		return absentCode
	}
	code := 0
	if c.codes != "" {
		code = int(c.codes[c.p])
	}
	c.p++
	return code
}

// codeSelection is a FieldFilter's answer for every code of a block's
// column (and for rows without the field).
// For a raw column (or one the block lacks) it holds the answer per row
// instead, found without building the rows.
type codeSelection struct {
	cur   codeCursor
	match [absentCode + 1]bool
	rows  []bool // per row, when not by code
	byRow bool
}

func (s *codeSelection) rewind() { s.cur.p = 0 }

// next reports whether row matches; rows must come in order from 0.
func (s *codeSelection) next(row int) bool {
	if s.byRow {
		return s.rows[row]
	}
	return s.match[s.cur.next(row)]
}

// fieldFilterOf is the one field f reads when it says so, else "".
func fieldFilterOf(f Filter) string {
	ff, ok := f.(FieldFilter)
	if !ok {
		return ""
	}
	switch name := ff.MatchField(); name {
	case record.MessageField, record.TimeField, record.StreamField:
		// Not field columns: the message is read whole, the others are
		// not stored as values.
		return ""
	default:
		return name
	}
}

// selectByCode decides the filter for every row of d, the block just
// read, by asking it once per distinct value of the one field it reads;
// nil when the filter is not so decided (a whole block needs no filter,
// a label is decided per block, a raw column only per row).
func (ss *searcher) selectByCode(d *decodedBlock, b *BlockInfo, whole bool) *codeSelection {
	name := ss.fieldFilter
	if name == "" {
		return ss.selectMessage(d, b, whole)
	}
	if whole || hasLabel(b.Labels, name) {
		return nil
	}
	sel := &ss.sc.codes.sel
	r, one := &ss.hcount.probe, &ss.hcount.one
	*r = record.Record{Tenant: b.Tenant, Stream: b.Labels}
	defer func() { *r = record.Record{} }()
	values, codes, bitmap, ok := d.dictColumn(name)
	if !ok {
		return ss.selectByRow(d, name, sel, r)
	}
	sel.byRow = false
	sel.cur = codeCursor{codes: codes, bitmap: bitmap}
	for code, v := range values {
		one[0] = record.Field{Name: name, Value: v}
		r.Fields = one[:]
		sel.match[code] = ss.req.Filter.Match(r)
	}
	r.Fields = nil
	sel.match[absentCode] = ss.req.Filter.Match(r)
	return sel
}

// codeCount is how countByCode counts a block: by the codes of group's
// column (values, cur), or all rows together when group is "". When
// group's column is stored raw, raw is set and values holds a value per
// present row (see countByRaw).
type codeCount struct {
	group  string
	values []string
	cur    codeCursor
	raw    bool
	// rawBitmap is the raw column's presence bitmap ("" when every row
	// has the field); missing says that the block lacks the column.
	rawBitmap string
	missing   bool
}

// planCount says how the matching rows of d, the block just read (nil
// for a head stream, whose values are not coded), can be
// passed to Count grouped by the codes (or the raw values) of the one
// non-label field fn reads (or all together when fn reads only labels).
// ok is false when they cannot: the caller counts nothing, no rows are
// selected without the filter, fn reads more than one field, or it reads
// a raw column and wants times too.
func (ss *searcher) planCount(d *decodedBlock, b *BlockInfo, whole bool, sel *codeSelection) (cc codeCount, ok bool) {
	if ss.req.Count == nil || ss.req.Fields == nil {
		return cc, false
	}
	// A block that matches whole but for the rows outside the search's
	// range (BlockAll, not covered) is counted with its times checked.
	if !whole && sel == nil && (d == nil || ss.matchBlock(b) != BlockAll) {
		return cc, false
	}
	for _, f := range ss.countFields {
		if hasLabel(b.Labels, f) {
			continue
		}
		if cc.group != "" || f == record.MessageField {
			return cc, false
		}
		cc.group = f
	}
	if cc.group == "" || d == nil {
		return cc, true
	}
	if values, codes, bitmap, ok := d.dictColumn(cc.group); ok {
		cc.values, cc.cur = values, codeCursor{codes: codes, bitmap: bitmap}
		return cc, true
	}
	// A raw column is counted value by value (countByRaw), which has no
	// times to hand per value; a column the search did not decode may
	// still be in the block.
	if ss.req.CountTimes || !ss.need[cc.group] {
		return cc, false
	}
	vs, bitmap, ok := d.rawColumn(cc.group)
	if !ok && d.hasColumn(cc.group) {
		return cc, false
	}
	cc.raw, cc.values, cc.rawBitmap, cc.missing = true, vs, bitmap, !ok
	return cc, true
}

// countByCode passes the matching rows of d to Count as cc says. The
// times must be loaded unless Count wants none and the block lies inside
// the search's range or its time index places its rows exactly.
func (ss *searcher) countByCode(d *decodedBlock, b *BlockInfo, sel *codeSelection, cc codeCount) error {
	if cc.raw {
		return ss.countByRaw(d, b, sel, cc)
	}
	group, values, gc := cc.group, cc.values, cc.cur
	cs := &ss.sc.codes
	clear(cs.counts[:])
	covered := ss.covers(b)
	if sel != nil {
		sel.rewind()
	}
	// Each row is looked at unless the block lies inside the range and no
	// time is wanted; a row's time is read only when the block's time
	// index cannot place it (rowIn).
	byRow := !covered || ss.req.CountTimes
	switch {
	case !byRow:
		countCovered(&cs.counts, &cs.quad, d.rows, sel, cc, ss.fieldFilter == group)
	case !ss.req.CountTimes:
		// A block the range cuts: when its rows in the range are one run
		// of rows, that run is counted as a covered block is.
		if lo, hi, ok := ss.rowsInRange(d); ok {
			byRow = !countRange(&cs.counts, &cs.quad, lo, hi, sel, cc, ss.fieldFilter == group)
		}
	}
	for row := 0; byRow && row < d.rows; row++ {
		if sel != nil && !sel.next(row) {
			if group != "" {
				gc.next(row)
			}
			continue
		}
		code := 0
		if group != "" {
			code = gc.next(row)
		}
		if !covered && !ss.rowIn(d, row) {
			continue
		}
		if ss.req.CountTimes {
			cs.times[code] = append(cs.times[code], d.times[row])
		}
		cs.counts[code]++
	}
	ss.stats.BlocksByCode++
	for code, n := range cs.counts {
		if n == 0 {
			continue
		}
		name, value := "", ""
		if group != "" && code != absentCode {
			name, value = group, values[code]
		}
		var times []int64
		if ss.req.CountTimes {
			times = cs.times[code]
			cs.times[code] = times[:0]
		}
		if err := ss.countGroup(b, name, value, n, times); err != nil {
			return err
		}
	}
	return nil
}

// countHeadTimes passes the records of a wholly matching head stream to
// Count with their times, which the head keeps apart from the records.
func (ss *searcher) countHeadTimes(hv *headView, b *BlockInfo) error {
	ss.times = append(ss.times[:0], hv.times...)
	ss.stats.HeadRecords += int64(len(hv.offs))
	ss.stats.RecordsCounted += int64(len(hv.offs))
	ss.stats.RecordsMatched += int64(len(hv.offs))
	return ss.count(b, len(ss.times), ss.times)
}

// headCount is the scratch of countHead.
type headCount struct {
	counts  map[string]int
	absent  int
	matches map[string]bool
	probe   record.Record // what the filter is asked about (also by selectByCode)
	one     [1]record.Field
}

// maxHeadMatches bounds the filter answers countHead remembers per head
// stream: a field of many distinct values (a latency, an id) gains
// nothing from them.
const maxHeadMatches = 256

// countHead passes the matching records of a head stream to Count grouped
// by the one non-label field fn reads, as countByCode does for a block: a
// FieldFilter is asked once per distinct value. It reports false, having
// done nothing, when that cannot be done.
func (ss *searcher) countHead(hv *headView, b *BlockInfo, whole bool) (bool, error) {
	if ss.req.CountTimes || !whole && (ss.fieldFilter == "" || hasLabel(b.Labels, ss.fieldFilter)) {
		return false, nil
	}
	cc, ok := ss.planCount(nil, b, true, nil)
	if !ok {
		return false, nil
	}
	hc := &ss.hcount
	if hc.counts == nil {
		hc.counts, hc.matches = map[string]int{}, map[string]bool{}
	}
	clear(hc.counts)
	clear(hc.matches)
	hc.absent = 0
	covered := ss.covers(b)
	filter := ss.fieldFilter
	probe := &hc.probe
	*probe = record.Record{Tenant: b.Tenant, Stream: b.Labels}
	absentMatch, hits := false, 0
	if !whole {
		absentMatch = ss.req.Filter.Match(probe)
	}
	for i, off := range hv.offs {
		if err := ss.tick(); err != nil {
			return true, err
		}
		c := cursorAt(hv.chunks, off)
		c.nextNeeded(&ss.hrec, false, ss.needList)
		ss.hrec.Time = hv.times[i]
		if !covered && !ss.inRange(ss.hrec.Time) {
			continue
		}
		if !whole {
			v, ok := fieldValue(ss.hrec.Fields, filter)
			if !ok {
				if !absentMatch {
					continue
				}
			} else {
				// When the stream shows mostly distinct values (ids),
				// remembering answers costs more than it saves.
				memo := len(hc.matches) < maxHeadMatches && (len(hc.matches) < 16 || hits >= len(hc.matches))
				m, seen := false, false
				if memo {
					m, seen = hc.matches[v]
				}
				if seen {
					hits++
				} else {
					hc.one[0] = record.Field{Name: filter, Value: v}
					probe.Fields = hc.one[:]
					m = ss.req.Filter.Match(probe)
					if memo {
						hc.matches[v] = m
					}
				}
				if !m {
					continue
				}
			}
		}
		if v, ok := fieldValue(ss.hrec.Fields, cc.group); ok {
			hc.counts[v]++
		} else {
			hc.absent++
		}
	}
	ss.stats.HeadRecords += int64(len(hv.offs))
	if hc.absent > 0 {
		if err := ss.countGroup(b, "", "", hc.absent, nil); err != nil {
			return true, err
		}
	}
	*probe = record.Record{}
	for v, n := range hc.counts {
		if err := ss.countGroup(b, cc.group, v, n, nil); err != nil {
			return true, err
		}
	}
	return true, nil
}

// fieldValue is the first value of the field name in fs, as Record.Get
// finds it; "" names no field.
func fieldValue(fs []record.Field, name string) (string, bool) {
	if name == "" {
		return "", false
	}
	for _, f := range fs {
		if f.Name == name {
			return f.Value, true
		}
	}
	return "", false
}

// countGroup passes n matching records of b whose field group (none when
// "") is value, with their times if Count wants them, to Count.
func (ss *searcher) countGroup(b *BlockInfo, group, value string, n int, times []int64) error {
	ss.crec = record.Record{Tenant: b.Tenant, Stream: b.Labels}
	if group != "" {
		ss.sc.codes.field[0] = record.Field{Name: group, Value: value}
		ss.crec.Fields = ss.sc.codes.field[:]
	}
	ss.stats.RecordsCounted += int64(n)
	ss.stats.RecordsMatched += int64(n)
	return ss.req.Count(&ss.crec, n, times)
}
