package store

import (
	"slices"

	"github.com/sluice-log/sluice/internal/record"
)

// This file holds the search's filtering of a decimal column (encDecimal):
// a NumberFilter decides its rows from their numbers, which cost a shift
// and a division each, instead of text parsed per row; another filter on
// the field is asked about each value's text.

// decimalScratch is one search's buffers for decimal columns.
type decimalScratch struct {
	floats []float64
	texts  []string
}

// decimalColumn returns the field column name of the decoded block when
// it is stored as decimals, with its presence bitmap (see dictColumn).
func (d *decodedBlock) decimalColumn(name string) (dec *decimals, bitmap string, ok bool) {
	for i := range d.cols {
		c := &d.cols[i]
		if c.name == name && c.enc == encDecimal {
			return &c.dec, c.bitmap, true
		}
	}
	return nil, "", false
}

// selectDecimal is selectByRow for a decimal column; ok is false when the
// block's column for name is not one. r is the probe record, holding the
// block's labels.
func (ss *searcher) selectDecimal(d *decodedBlock, name string, sel *codeSelection, r *record.Record) (_ *codeSelection, ok bool) {
	dec, bitmap, ok := d.decimalColumn(name)
	if !ok {
		return nil, false
	}
	r.Fields = nil
	absent := ss.req.Filter.Match(r)
	sel.byRow = true
	sel.rows = slices.Grow(sel.rows[:0], d.rows)[:d.rows]
	// The present rows' answers go first, then move to their rows.
	present := sel.rows[:dec.k]
	sc := &ss.decs
	if nf, ok := ss.req.Filter.(NumberFilter); ok && nf.NumbersOnly() {
		sc.floats = dec.appendFloats(sc.floats[:0])
		nf.MatchNumbers(sc.floats, present)
	} else {
		sc.texts = dec.appendTexts(sc.texts[:0])
		one := &ss.hcount.one
		for i, v := range sc.texts {
			one[0] = record.Field{Name: name, Value: v}
			r.Fields = one[:]
			present[i] = ss.req.Filter.Match(r)
		}
		r.Fields = nil
		clear(sc.texts)
	}
	spreadPresent(sel.rows, dec.k, bitmap, absent)
	return sel, true
}
