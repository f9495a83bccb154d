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

var (
	_ store.TokenFilter = phraseFilter{}
	_ store.TokenFilter = exactFilter{}
	_ store.TokenFilter = wildcardFilter{}
	_ store.TokenFilter = regexFilter{}
	_ store.TokenFilter = andFilter{}
)

// WholeTokens implements store.TokenFilter: a phrase's tokens but a
// prefix's last (which a match holds as a prefix only).
func (f phraseFilter) WholeTokens() []string {
	whole := f.toks
	if f.prefix && len(whole) > 0 {
		whole = whole[:len(whole)-1]
	}
	return wholeTokens(f.field, whole)
}

// WholeTokens implements store.TokenFilter: the value's tokens. An empty
// value, which matches records without the field, has none.
func (f exactFilter) WholeTokens() []string {
	if f.value == "" {
		return nil
	}
	return wholeTokens(f.field, f.toks)
}

func (f wildcardFilter) WholeTokens() []string { return wholeTokens(f.field, f.toks) }
func (f regexFilter) WholeTokens() []string    { return wholeTokens(f.field, f.toks) }

// WholeTokens implements store.TokenFilter: a match matches every child,
// so it holds the tokens of each one that knows some. Only its common
// field's (MatchField) are asked for.
func (f andFilter) WholeTokens() []string {
	var toks []string
	for _, c := range f {
		if tf, ok := c.(store.TokenFilter); ok {
			toks = append(toks, tf.WholeTokens()...)
		}
	}
	return toks
}

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
