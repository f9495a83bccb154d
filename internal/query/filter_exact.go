package query

import (
	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/store"
)

// Exact is `field:="Value"`: the field's whole value equals Value, case
// and all. Words and phrases ignore case; this is the way not to. An empty
// Value matches records without the field too, like field:"".
type Exact struct {
	Field, Value string
}

func (Exact) node() {}

func (n Exact) String() string { return n.Field + ":=" + valueString(n.Value) }

type exactFilter struct {
	field, value string
	toks         []string
}

func newExactFilter(n Exact) exactFilter {
	return exactFilter{field: n.Field, value: n.Value, toks: boundedTokens(n.Value, true, true)}
}

func (f exactFilter) Match(r *record.Record) bool {
	v, _ := r.Get(f.field)
	return v == f.value
}

func (f exactFilter) MayMatch(b store.BlockSummary) bool {
	if f.value == "" {
		return true
	}
	return mayHoldTokens(b, f.field, f.toks)
}
