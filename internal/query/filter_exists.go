package query

import (
	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/store"
)

// existsFilter is field:*, a present and non-empty field.
type existsFilter struct{ field string }

func (f existsFilter) Match(r *record.Record) bool {
	v, ok := r.Get(f.field)
	return ok && v != ""
}

func (f existsFilter) MayMatch(b store.BlockSummary) bool {
	if !indexed(f.field) || f.field == record.MessageField {
		return true
	}
	return b.MayHaveField(f.field)
}
