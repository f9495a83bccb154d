package query

import (
	"errors"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-log/sluice/internal/record"
)

// Parse parses a query with the default ParseOptions. Errors are
// *ParseError.
func Parse(s string) (*Query, error) {
	return ParseWith(s, ParseOptions{})
}

// ParseOptions bound what a query may ask for before it runs.
type ParseOptions struct {
	// MaxRegexSize bounds the instructions each regular expression
	// (field:/re/, {label=~"re"}) compiles to; 0 means
	// DefaultMaxRegexSize.
	MaxRegexSize int
}

// ParseWith parses a query under o's bounds. Errors are *ParseError.
func ParseWith(s string, o ParseOptions) (*Query, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	if o.MaxRegexSize <= 0 {
		o.MaxRegexSize = DefaultMaxRegexSize
	}
	p := &parser{src: s, toks: toks, maxRegex: o.MaxRegexSize}
	return p.query()
}

// parser is a recursive-descent parser over the whole token list; pipes'
// parsers (registered in pipe.go) use its helpers for their arguments.
type parser struct {
	src      string
	toks     []token
	i        int
	depth    int // nesting of parentheses and NOTs, bounded by maxDepth
	maxRegex int // ParseOptions.MaxRegexSize; 0: no bound
}

// checkRegex reports a pattern that does not compile or compiles to more
// than maxRegex instructions; what names it in the error.
func (p *parser) checkRegex(pos int, what, pattern string) error {
	if _, err := regexp.Compile(pattern); err != nil {
		return p.errorf(pos, "invalid regular expression%s: %v", what, regexErrorText(err))
	}
	n, err := regexProgramSize(pattern)
	if err != nil {
		return p.errorf(pos, "invalid regular expression%s: %v", what, regexErrorText(err))
	}
	if p.maxRegex > 0 && n > p.maxRegex {
		return p.errorf(pos, "regular expression%s compiles to %d instructions, over the limit of %d (query.max_regex_size); use smaller counted repetitions ({0,1000} repeats what it follows 1000 times) or * and +", what, n, p.maxRegex)
	}
	return nil
}

// maxDepth bounds nesting so that a hostile query cannot exhaust the stack
// of the parser or of the code that walks the tree.
const maxDepth = 100

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) peekAt(k int) token {
	if p.i+k < len(p.toks) {
		return p.toks[p.i+k]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *parser) errorf(pos int, format string, args ...any) error {
	return newParseError(p.src, pos, format, args...)
}

// unexpected reports that t is not what was expected.
func (p *parser) unexpected(t token, expected string) error {
	return p.errorf(t.pos, "expected %s, found %s", expected, t.describe())
}

// isKeyword reports whether the token is the operator kw; a keyword
// followed by ':' is a field name (`not:5`).
func (p *parser) isKeyword(k int, kw string) bool {
	t := p.peekAt(k)
	return t.kind == tokWord && strings.EqualFold(t.text, kw) && p.peekAt(k+1).kind != tokColon
}

func (p *parser) query() (*Query, error) {
	q := &Query{Filter: MatchAll{}}
	if t := p.peek(); t.kind != tokPipe && t.kind != tokEOF {
		f, err := p.or("")
		if err != nil {
			return nil, err
		}
		q.Filter = f
	}
	for {
		t := p.next()
		switch t.kind {
		case tokEOF:
			return q, nil
		case tokPipe:
			pipe, err := p.pipe()
			if err != nil {
				return nil, err
			}
			q.Pipes = append(q.Pipes, pipe)
		case tokColon:
			return nil, p.errorf(t.pos, "unexpected ':' (quote values that contain ':', like host:\"a:b\")")
		default:
			return nil, p.unexpected(t, "an operator, '|' or the end of the query")
		}
	}
}

// or parses `and (OR and)*`. field is the field of an enclosing value list
// (`field:(a OR b)`), or "" at the top level.
func (p *parser) or(field string) (Node, error) {
	var children []Node
	for {
		c, err := p.and(field)
		if err != nil {
			return nil, err
		}
		children = appendFlat(children, c, orChildren)
		if !p.isKeyword(0, "OR") {
			break
		}
		p.next()
	}
	if len(children) == 1 {
		return children[0], nil
	}
	return Or{Children: children}, nil
}

// and parses unaries joined by AND or by nothing: adjacent terms mean AND.
func (p *parser) and(field string) (Node, error) {
	var children []Node
	for {
		c, err := p.unary(field)
		if err != nil {
			return nil, err
		}
		children = appendFlat(children, c, andChildren)
		if p.isKeyword(0, "AND") {
			p.next()
		} else if !p.startsUnary() {
			break
		}
	}
	if len(children) == 1 {
		return children[0], nil
	}
	return And{Children: children}, nil
}

// appendFlat appends c, or c's children when c is of the operator being
// built (from parentheses), so that `(a AND b) AND c` and `a AND b AND c`
// give the same tree and the printer needs no parentheses to tell them
// apart.
func appendFlat(children []Node, c Node, split func(Node) ([]Node, bool)) []Node {
	if inner, ok := split(c); ok {
		return append(children, inner...)
	}
	return append(children, c)
}

func orChildren(n Node) ([]Node, bool) {
	o, ok := n.(Or)
	return o.Children, ok
}

func andChildren(n Node) ([]Node, bool) {
	a, ok := n.(And)
	return a.Children, ok
}

// startsUnary reports whether the next token can begin a term, for implicit
// AND.
func (p *parser) startsUnary() bool {
	switch p.peek().kind {
	case tokWord:
		return !p.isKeyword(0, "OR")
	case tokString, tokLParen, tokOp, tokLBrack, tokLBrace:
		return true
	}
	return false
}

func (p *parser) unary(field string) (Node, error) {
	t := p.peek()
	if p.depth++; p.depth > maxDepth {
		return nil, p.errorf(t.pos, "the query nests parentheses and NOTs more than %d deep", maxDepth)
	}
	defer func() { p.depth-- }()
	if p.isKeyword(0, "NOT") {
		p.next()
		c, err := p.unary(field)
		if err != nil {
			return nil, err
		}
		return Not{Child: c}, nil
	}
	if t.kind == tokWord && strings.HasPrefix(t.text, "-") {
		if t.text == "-" {
			p.next()
			if k := p.peek().kind; k == tokEOF || k == tokPipe || k == tokRParen {
				return nil, p.unexpected(p.peek(), "a term after '-'")
			}
		} else {
			// Strip the '-' and parse the rest of the word as a term.
			p.toks[p.i] = token{kind: tokWord, text: t.text[1:], pos: t.pos + 1}
		}
		c, err := p.unary(field)
		if err != nil {
			return nil, err
		}
		return Not{Child: c}, nil
	}
	return p.primary(field)
}

func (p *parser) primary(field string) (Node, error) {
	t := p.peek()
	if t.kind == tokLParen {
		p.next()
		n, err := p.or(field)
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tokRParen {
			return nil, p.unexpected(c, "')' to close the '(' at "+p.where(t.pos))
		}
		return n, nil
	}
	if field != "" {
		return p.value(field, "a value")
	}
	switch t.kind {
	case tokString:
		p.next()
		return Phrase{Field: record.MessageField, Value: t.text}, nil
	case tokWord:
		p.next()
		if p.peek().kind == tokColon {
			if !isFieldName(t.text) {
				return nil, p.errorf(t.pos, "invalid field name %q: field names hold letters, digits and _ . - @", t.text)
			}
			colon := p.next()
			if p.peek().kind == tokLParen {
				return p.primary(t.text)
			}
			return p.value(t.text, "a value after '"+colon.text+"'")
		}
		if t.text == "*" {
			return MatchAll{}, nil
		}
		if p.isKeyword(-1, "AND") || p.isKeyword(-1, "OR") {
			return nil, p.unexpected(t, "a search term (quote \""+t.text+"\" to search for the word)")
		}
		return p.word(record.MessageField, t)
	}
	return nil, p.unexpected(t, "a search term")
}

// where renders a position as line:column for messages.
func (p *parser) where(pos int) string {
	e := newParseError(p.src, pos, "")
	return strconv.Itoa(e.Line) + ":" + strconv.Itoa(e.Col)
}

// value parses what follows `field:`.
func (p *parser) value(field, expected string) (Node, error) {
	t := p.next()
	switch t.kind {
	case tokString:
		if field == record.TimeField {
			return nil, p.errorf(t.pos, "_time takes a range or a comparison, like _time:>now-1h or _time:[2024-05-01 TO 2024-05-02]")
		}
		return Phrase{Field: field, Value: t.text}, nil
	case tokWord:
		if field == record.TimeField && t.text != "*" {
			return nil, p.errorf(t.pos, "_time takes a range or a comparison, like _time:>now-1h or _time:[2024-05-01 TO 2024-05-02]")
		}
		if strings.HasPrefix(t.text, "=") {
			return p.exact(field, t)
		}
		return p.word(field, t)
	case tokRegex:
		if err := p.checkRegex(t.pos, "", t.text); err != nil {
			return nil, err
		}
		return Regex{Field: field, Pattern: t.text}, nil
	case tokOp:
		v := p.joinColons(p.next())
		if v.kind == tokString || (v.kind == tokWord && !strings.Contains(v.text, "*")) {
			if err := p.checkTime(field, v); err != nil {
				return nil, err
			}
			return Compare{Field: field, Op: t.text, Value: v.text}, nil
		}
		return nil, p.unexpected(v, "a number or a word after '"+t.text+"'")
	case tokLBrace:
		if field == record.StreamField {
			return p.streamSelector(t)
		}
		return p.rangeValue(field, t)
	case tokLBrack:
		return p.rangeValue(field, t)
	}
	return nil, p.unexpected(t, expected)
}

// regexErrorText drops regexp's own "error parsing regexp: " prefix.
func regexErrorText(err error) string {
	var se *syntax.Error
	if errors.As(err, &se) {
		return se.Code.String() + ": " + strconv.Quote(se.Expr)
	}
	return err.Error()
}

// exact parses `field:=value` and `field:="value"`; t is the word that
// starts with '='.
func (p *parser) exact(field string, t token) (Node, error) {
	if t.text != "=" {
		return Exact{Field: field, Value: t.text[1:]}, nil
	}
	v := p.next()
	if v.kind != tokString && v.kind != tokWord {
		return nil, p.unexpected(v, "a value after ':=' (quote it: field:=\"Value\")")
	}
	return Exact{Field: field, Value: v.text}, nil
}

// joinColons glues a word to the ':' and words that follow it without
// spaces, so that times such as 2024-05-01T10:00:00Z need no quotes in
// ranges and comparisons.
func (p *parser) joinColons(t token) token {
	if t.kind != tokWord {
		return t
	}
	for {
		c, w := p.peek(), p.peekAt(1)
		end := t.pos + len(t.text)
		if c.kind != tokColon || c.pos != end || w.kind != tokWord || w.pos != end+1 {
			return t
		}
		p.next()
		p.next()
		t.text += ":" + w.text
	}
}

// checkTime validates a bound of a condition on _time.
func (p *parser) checkTime(field string, v token) error {
	if field != record.TimeField {
		return nil
	}
	if _, err := parseTimeValue(v.text, time.Now()); err != nil {
		return p.errorf(v.pos, "%v", err)
	}
	return nil
}

// word turns a word into Phrase, Prefix, Wildcard, Exists or MatchAll.
func (p *parser) word(field string, t token) (Node, error) {
	star := strings.IndexByte(t.text, '*')
	switch {
	case star < 0:
		return Phrase{Field: field, Value: t.text}, nil
	case t.text == "*":
		return Exists{Field: field}, nil
	case star != len(t.text)-1, t.path:
		return Wildcard{Field: field, Pattern: t.text}, nil
	}
	prefix := t.text[:star]
	if len(record.TokenList(prefix)) == 0 {
		return nil, p.errorf(t.pos, "expected letters or digits before '*', found %q", t.text)
	}
	return Prefix{Field: field, Value: prefix}, nil
}

func (p *parser) rangeValue(field string, open token) (Node, error) {
	lo, err := p.bound()
	if err != nil {
		return nil, err
	}
	if to := p.next(); to.kind != tokWord || !strings.EqualFold(to.text, "TO") {
		return nil, p.unexpected(to, "TO in the range")
	}
	hi, err := p.bound()
	if err != nil {
		return nil, err
	}
	closing := p.next()
	if closing.kind != tokRBrack && closing.kind != tokRBrace {
		return nil, p.unexpected(closing, "']' or '}' to close the range")
	}
	for _, b := range []struct {
		b   Bound
		pos int
	}{{lo, open.pos}, {hi, closing.pos}} {
		if !b.b.Unbounded {
			if err := p.checkTime(field, token{kind: tokWord, text: b.b.Value, pos: b.pos}); err != nil {
				return nil, err
			}
		}
	}
	return Range{Field: field, Lo: lo, Hi: hi, LoIncl: open.kind == tokLBrack, HiIncl: closing.kind == tokRBrack}, nil
}

func (p *parser) bound() (Bound, error) {
	t := p.joinColons(p.next())
	switch {
	case t.kind == tokWord && t.text == "*":
		return Bound{Unbounded: true}, nil
	case t.kind == tokWord && strings.EqualFold(t.text, "TO"):
		return Bound{}, p.unexpected(t, "a range bound")
	case t.kind == tokWord && !strings.Contains(t.text, "*"), t.kind == tokString:
		return Bound{Value: t.text}, nil
	}
	return Bound{}, p.unexpected(t, "a range bound (a number, a word or *)")
}
