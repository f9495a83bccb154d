package query

import "github.com/sluice-log/sluice/internal/store"

// The filters answer store.FieldFilter: each leaf reads one field's value
// through Record.Get and nothing else, so a block that stores the field as
// a dictionary is filtered once per distinct value instead of once per row.
// A boolean filter qualifies when all its children read the same field
// (`status:[500 TO 599] OR status:=404`).

var (
	_ store.FieldFilter = phraseFilter{}
	_ store.FieldFilter = exactFilter{}
	_ store.FieldFilter = existsFilter{}
	_ store.FieldFilter = rangeFilter{}
	_ store.FieldFilter = wildcardFilter{}
	_ store.FieldFilter = regexFilter{}
	_ store.FieldFilter = andFilter{}
	_ store.FieldFilter = orFilter{}
	_ store.FieldFilter = notFilter{}
)

func (f phraseFilter) MatchField() string   { return f.field }
func (f exactFilter) MatchField() string    { return f.field }
func (f existsFilter) MatchField() string   { return f.field }
func (f rangeFilter) MatchField() string    { return f.field }
func (f wildcardFilter) MatchField() string { return f.field }
func (f regexFilter) MatchField() string    { return f.field }

// matchField is the one field f reads, or "".
func matchField(f store.Filter) string {
	if ff, ok := f.(store.FieldFilter); ok {
		return ff.MatchField()
	}
	return ""
}

// commonField is the one field all of fs read, or "".
func commonField(fs []store.Filter) string {
	name := ""
	for i, c := range fs {
		n := matchField(c)
		if n == "" || i > 0 && n != name {
			return ""
		}
		name = n
	}
	return name
}

func (f andFilter) MatchField() string { return commonField(f) }
func (f orFilter) MatchField() string  { return commonField(f) }
func (f notFilter) MatchField() string { return matchField(f.child) }
