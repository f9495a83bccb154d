package store

import (
	"slices"

	"github.com/sluice-log/sluice/internal/record"
)

// This file holds the search's filtering of a raw column (one value per
// row, no dictionary) and of the message column: the filter is asked about
// each row's value alone, without building the rows, and a ValuesFilter
// about all of the column's values in one pass.

// selectByRow is selectByCode for a raw column, or one the block lacks
// (when the search decoded every column it needs): the filter is asked
// about each row's value alone, which spares building the rows it
// rejects. r is the probe record, holding the block's labels.
func (ss *searcher) selectByRow(d *decodedBlock, name string, sel *codeSelection, r *record.Record) *codeSelection {
	if sel, ok := ss.selectDecimal(d, name, sel, r); ok {
		return sel
	}
	vs, bitmap, ok := d.rawValues(name)
	if !ok && (d.hasColumn(name) || ss.need != nil && !ss.need[name]) {
		return nil
	}
	sel.byRow = true
	sel.rows = slices.Grow(sel.rows[:0], d.rows)[:d.rows]
	r.Fields = nil
	absent := ss.req.Filter.Match(r)
	if !ok {
		for row := range sel.rows {
			sel.rows[row] = absent
		}
		return sel
	}
	if c := d.column(name); c != nil && ss.matchHex(c, sel.rows[:len(vs.Values)], r) {
		// The present rows' answers go first, then move to their rows.
		spreadPresent(sel.rows, len(vs.Values), bitmap, absent)
		return sel
	}
	if vf, isVF := ss.req.Filter.(ValuesFilter); isVF {
		vf.MatchValues(vs, sel.rows[:len(vs.Values)])
		spreadPresent(sel.rows, len(vs.Values), bitmap, absent)
		return sel
	}
	one := &ss.hcount.one
	p := 0
	for row := range sel.rows {
		if bitmap != "" && bitmap[row/8]&(1<<(row%8)) == 0 {
			sel.rows[row] = absent
			continue
		}
		one[0] = record.Field{Name: name, Value: vs.Values[p]}
		p++
		r.Fields = one[:]
		sel.rows[row] = ss.req.Filter.Match(r)
	}
	return sel
}

// column is the decoded field column name, nil when the block lacks it
// or the decode was not asked for it.
func (d *decodedBlock) column(name string) *decodedCol {
	for i := range d.cols {
		if d.cols[i].name == name {
			return &d.cols[i]
		}
	}
	return nil
}

// rawValues is rawColumn with the column's bytes, for a ValuesFilter.
func (d *decodedBlock) rawValues(name string) (vs Values, bitmap string, ok bool) {
	for i := range d.cols {
		c := &d.cols[i]
		if c.name == name && c.enc == encRaw {
			return Values{Data: c.data, Values: c.values}, c.bitmap, true
		}
	}
	return Values{}, "", false
}

// spreadPresent moves the answers of the n present rows, rows[:n] in row
// order, to the rows bitmap marks, and gives the other rows absent. It
// works backwards in place: a present row's answer never moves to an
// earlier row, so none is overwritten before it moves.
func spreadPresent(rows []bool, n int, bitmap string, absent bool) {
	if bitmap == "" {
		return // every row is present: rows[:n] is all of rows
	}
	p := n - 1
	for row := len(rows) - 1; row >= 0; row-- {
		if bitmap[row/8]&(1<<(row%8)) == 0 {
			rows[row] = absent
			continue
		}
		rows[row] = rows[p]
		p--
	}
}

// selectMessage is selectByCode for a filter on the message alone (a
// word, phrase or wildcard with no field), which selectByCode leaves
// out: the message column is decided by code when it is a dictionary,
// else by row, in one pass for a ValuesFilter. nil when the filter reads
// more than the message, the block is wholly matched, or its message was
// not decoded.
func (ss *searcher) selectMessage(d *decodedBlock, b *BlockInfo, whole bool) *codeSelection {
	if whole || d.skipMsg || ss.req.Filter == nil {
		return nil
	}
	ff, ok := ss.req.Filter.(FieldFilter)
	if !ok || ff.MatchField() != record.MessageField {
		return nil
	}
	sel := &ss.sc.codes.sel
	c := &d.msg
	r := &ss.hcount.probe
	*r = record.Record{Tenant: b.Tenant, Stream: b.Labels}
	defer func() { *r = record.Record{} }()
	if c.enc == encDict || c.enc == encConst {
		sel.byRow = false
		sel.cur = codeCursor{codes: c.codes}
		for code, v := range c.values {
			r.Message = v
			sel.match[code] = ss.req.Filter.Match(r)
		}
		return sel
	}
	sel.byRow = true
	sel.rows = slices.Grow(sel.rows[:0], d.rows)[:d.rows]
	if vf, isVF := ff.(ValuesFilter); isVF {
		vf.MatchValues(Values{Data: c.data, Values: c.values}, sel.rows)
		return sel
	}
	for row, v := range c.values {
		r.Message = v
		sel.rows[row] = ss.req.Filter.Match(r)
	}
	return sel
}
