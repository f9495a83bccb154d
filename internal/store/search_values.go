package store

import (
	"slices"

	"github.com/sluice-log/sluice/internal/record"
)

// This file holds the search's filtering of a raw column (one value per
// row, no dictionary): the filter is asked about each row's value alone,
// without building the rows.

// selectByRow is selectByCode for a raw column, or one the block lacks
// (when the search decoded every column it needs): the filter is asked
// about each row's value alone, which spares building the rows it
// rejects. r is the probe record, holding the block's labels.
func (ss *searcher) selectByRow(d *decodedBlock, name string, sel *codeSelection, r *record.Record) *codeSelection {
	values, bitmap, ok := d.rawColumn(name)
	if !ok && (d.hasColumn(name) || ss.need != nil && !ss.need[name]) {
		return nil
	}
	sel.byRow = true
	sel.rows = slices.Grow(sel.rows[:0], d.rows)[:d.rows]
	r.Fields = nil
	absent := ss.req.Filter.Match(r)
	one := &ss.hcount.one
	p := 0
	for row := range sel.rows {
		if !ok || bitmap != "" && bitmap[row/8]&(1<<(row%8)) == 0 {
			sel.rows[row] = absent
			continue
		}
		one[0] = record.Field{Name: name, Value: values[p]}
		p++
		r.Fields = one[:]
		sel.rows[row] = ss.req.Filter.Match(r)
	}
	return sel
}
