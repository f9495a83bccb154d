package query

import "github.com/sluice-log/sluice/internal/store"

// The filters answer store.PresenceFilter: `field:*` depends only on
// whether the field holds a non-empty value, and so do NOT, AND and OR
// over such filters of one field, which lets the store decide a block
// whose rows all hold the field (or none does) without reading its
// column.

var (
	_ store.PresenceFilter = existsFilter{}
	_ store.PresenceFilter = notFilter{}
	_ store.PresenceFilter = andFilter{}
	_ store.PresenceFilter = orFilter{}
)

func (existsFilter) PresenceOnly() bool { return true }

func (f notFilter) PresenceOnly() bool { return presenceOnly(f.child) }

func (f andFilter) PresenceOnly() bool { return allPresenceOnly(f) }

func (f orFilter) PresenceOnly() bool { return allPresenceOnly(f) }

// presenceOnly reports whether f depends on its field's presence alone.
func presenceOnly(f store.Filter) bool {
	pf, ok := f.(store.PresenceFilter)
	return ok && pf.PresenceOnly()
}

// allPresenceOnly reports whether fs read one field, each by its presence
// alone.
func allPresenceOnly(fs []store.Filter) bool {
	if commonField(fs) == "" {
		return false
	}
	for _, f := range fs {
		if !presenceOnly(f) {
			return false
		}
	}
	return true
}
