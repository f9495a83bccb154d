package query

import (
	"strings"

	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/store"
)

// Wildcard is `field:ab*cd` or `*error*`: the field's whole value matches
// Pattern, where each '*' stands for any run of characters, ignoring case.
// A pattern whose only '*' is the last character is a Prefix instead.
type Wildcard struct {
	Field, Pattern string
}

func (Wildcard) node() {}

func (n Wildcard) String() string {
	if n.Field == record.MessageField && isPlainWord(strings.ReplaceAll(n.Pattern, "*", "x"), true) {
		return n.Pattern
	}
	return n.Field + ":" + n.Pattern
}

// wildcardFilter matches the lowercased value against the pattern's
// literal segments.
type wildcardFilter struct {
	field    string
	segments []string // lowercased text between the stars
	toks     []string // whole tokens every match holds
	ascii    bool     // the segments are ASCII: globMatchASCII may answer
}

func newWildcardFilter(n Wildcard) wildcardFilter {
	f := wildcardFilter{field: n.Field, segments: strings.Split(strings.ToLower(n.Pattern), "*")}
	last := len(f.segments) - 1
	for i, s := range f.segments {
		f.toks = append(f.toks, boundedTokens(s, i == 0, i == last)...)
	}
	f.ascii = isASCII(strings.ToLower(n.Pattern))
	return f
}

func (f wildcardFilter) Match(r *record.Record) bool {
	v, ok := r.Get(f.field)
	return ok && f.matchValue(v)
}

// matchValue is Match for a record whose field holds v.
func (f wildcardFilter) matchValue(v string) bool {
	if f.ascii && isASCII(v) {
		return globMatchASCII(v, f.segments)
	}
	return globMatch(strings.ToLower(v), f.segments)
}

// globMatch reports whether s is segments joined by runs of any
// characters. Taking the leftmost place for each middle segment is enough:
// a later place never leaves more room for the rest.
func globMatch(s string, segments []string) bool {
	if len(segments) == 1 {
		return s == segments[0]
	}
	first, last := segments[0], segments[len(segments)-1]
	if len(s) < len(first)+len(last) || !strings.HasPrefix(s, first) || !strings.HasSuffix(s, last) {
		return false
	}
	s = s[len(first) : len(s)-len(last)]
	for _, seg := range segments[1 : len(segments)-1] {
		i := strings.Index(s, seg)
		if i < 0 {
			return false
		}
		s = s[i+len(seg):]
	}
	return true
}

func (f wildcardFilter) MayMatch(b store.BlockSummary) bool { return mayHoldTokens(b, f.field, f.toks) }
