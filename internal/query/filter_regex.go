package query

import (
	"context"
	"io"
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode/utf8"

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
	// prefix is a literal every match begins with, "" when there is none.
	prefix string
	// longValue is the length from which a value is matched through
	// stopReader, which looks at ctx every longValue runes; shorter ones
	// are matched at once (see regexCheckSteps).
	longValue int
	ctx       context.Context // nil: never cancelled
}

// regexCheckSteps bounds the work of a regular expression between two
// looks at the query's context, in instructions times bytes: Go's regexp
// is linear, but its cost per byte grows with the program, so that
// .{0,1000}b.{0,1000}z (4004 instructions) takes 120 µs per byte, 31 s
// over a 256 KiB value. At about 30 ns per instruction and byte, 2^16 of
// them are some 2 ms, so a query overruns its deadline by no more; a look
// is one atomic load, nothing beside the matching it interrupts.
const regexCheckSteps = 1 << 16

// newRegexFilter compiles a pattern the parser has already validated;
// ctx is the query's (nil: none).
func newRegexFilter(n Regex, ctx context.Context) regexFilter {
	re := regexp.MustCompile(n.Pattern)
	prefix, _ := re.LiteralPrefix()
	size, _ := regexProgramSize(n.Pattern)
	return regexFilter{field: n.Field, re: re, toks: requiredTokens(n.Pattern), prefix: prefix,
		longValue: max(regexCheckSteps/max(size, 1), 16), ctx: ctx}
}

func (f regexFilter) Match(r *record.Record) bool {
	v, ok := r.Get(f.field)
	return ok && f.matchValue(v)
}

// matchValue reports whether v holds a match. Once the query's context is
// done it answers false at once, and a long value is read through a reader
// that gives up when the context is done, so that a search over values of
// any length ends at its deadline: the search sees the context within
// store.ctxCheckEvery rows, and its answer is discarded.
func (f regexFilter) matchValue(v string) bool {
	if f.ctx == nil {
		return f.re.MatchString(v)
	}
	if f.ctx.Err() != nil {
		return false
	}
	if len(v) < f.longValue {
		return f.re.MatchString(v)
	}
	// MatchReader does not skip ahead to the literal prefix as
	// MatchString does; a value without it is ruled out here instead.
	if f.prefix != "" && !strings.Contains(v, f.prefix) {
		return false
	}
	sr := &stopReader{s: v, ctx: f.ctx, every: f.longValue}
	return f.re.MatchReader(sr) && !sr.stopped
}

// stopReader reads a string's runes as regexp does (an invalid byte is
// utf8.RuneError of width 1) and ends the input early, setting stopped,
// once ctx is done, which it looks at every `every` runes.
type stopReader struct {
	s       string
	i, n    int
	every   int
	ctx     context.Context
	stopped bool
}

func (r *stopReader) ReadRune() (rune, int, error) {
	if r.i >= len(r.s) {
		return 0, 0, io.EOF
	}
	if r.n++; r.n%r.every == 0 && r.ctx.Err() != nil {
		r.stopped = true
		return 0, 0, io.EOF
	}
	if c := r.s[r.i]; c < utf8.RuneSelf {
		r.i++
		return rune(c), 1, nil
	}
	c, w := utf8.DecodeRuneInString(r.s[r.i:])
	r.i += w
	return c, w, nil
}

// DefaultMaxRegexSize is the default bound on the instructions a
// regular expression compiles to (ParseOptions.MaxRegexSize). A program's
// size sets its cost per byte searched and the memory of each match;
// .{0,1000}b.{0,1000}z, the costliest single repetitions allow, takes
// 4004.
const DefaultMaxRegexSize = 5000

// regexProgramSize is the number of instructions pattern compiles to, as
// regexp compiles it.
func regexProgramSize(pattern string) (int, error) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return 0, err
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return 0, err
	}
	return len(prog.Inst), nil
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
