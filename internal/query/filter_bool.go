package query

import (
	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/store"
)

type andFilter []store.Filter

func (f andFilter) Match(r *record.Record) bool {
	for _, c := range f {
		if !c.Match(r) {
			return false
		}
	}
	return true
}

func (f andFilter) MayMatch(b store.BlockSummary) bool {
	for _, c := range f {
		if !c.MayMatch(b) {
			return false
		}
	}
	return true
}

type orFilter []store.Filter

func (f orFilter) Match(r *record.Record) bool {
	for _, c := range f {
		if c.Match(r) {
			return true
		}
	}
	return false
}

func (f orFilter) MayMatch(b store.BlockSummary) bool {
	for _, c := range f {
		if c.MayMatch(b) {
			return true
		}
	}
	return false
}

type notFilter struct{ child store.Filter }

func (f notFilter) Match(r *record.Record) bool { return !f.child.Match(r) }

// MayMatch is true: a summary that says "may contain" cannot tell that
// every record matches the child.
func (notFilter) MayMatch(store.BlockSummary) bool { return true }
