package query

import (
	"regexp"
	"regexp/syntax"
	"strings"

	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/store"
)

// Regex is `field:/re/`: the field's value holds a match of the RE2
// expression Pattern somewhere (anchor it with ^ and $ for the whole
// value). Case counts unless the pattern starts with (?i).
type Regex struct {
	Field, Pattern string
}

func (Regex) node() {}

func (n Regex) String() string { return n.Field + ":" + regexLiteral(n.Pattern) }

// regexLiteral prints a pattern between slashes so that the lexer reads it
// back: a '/' is escaped, other escapes are kept as they are.
func regexLiteral(pattern string) string {
	var b strings.Builder
	b.WriteByte('/')
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; {
		case c == '\\' && i+1 < len(pattern):
			b.WriteByte(c)
			i++
			b.WriteByte(pattern[i])
		case c == '/':
			b.WriteString(`\/`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('/')
	return b.String()
}

type regexFilter struct {
	field string
	re    *regexp.Regexp
	toks  []string // whole tokens every match holds
}

// newRegexFilter compiles a pattern the parser has already validated.
func newRegexFilter(n Regex) regexFilter {
	return regexFilter{field: n.Field, re: regexp.MustCompile(n.Pattern), toks: requiredTokens(n.Pattern)}
}

func (f regexFilter) Match(r *record.Record) bool {
	v, ok := r.Get(f.field)
	return ok && f.re.MatchString(v)
}

func (f regexFilter) MayMatch(b store.BlockSummary) bool { return mayHoldTokens(b, f.field, f.toks) }

// requiredTokens finds tokens that every value matching pattern must hold:
// those inside the literal parts of a top-level concatenation. Anything it
// cannot reason about (alternations, repetitions, case folding) yields no
// tokens, which is always safe.
func requiredTokens(pattern string) []string {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	re = re.Simplify()
	for re.Op == syntax.OpCapture {
		re = re.Sub[0]
	}
	subs := []*syntax.Regexp{re}
	if re.Op == syntax.OpConcat {
		subs = re.Sub
	}
	var out []string
	for i, s := range subs {
		if s.Op != syntax.OpLiteral || s.Flags&syntax.FoldCase != 0 {
			continue
		}
		left := i > 0 && subs[i-1].Op == syntax.OpBeginText
		right := i+1 < len(subs) && subs[i+1].Op == syntax.OpEndText
		out = append(out, boundedTokens(string(s.Rune), left, right)...)
	}
	return out
}
