package query

import (
	"errors"
	"sort"
	"strconv"
	"strings"
)

// Pipe is one stage after '|'. Pipes are registered by name (see
// registerPipe); each lives in its own pipe_<name>.go file.
type Pipe interface {
	// String prints the pipe's canonical text, without the leading '|'.
	String() string
	// consumesRecords is true for a pipe that must see every matching
	// record (stats); other pipes see the rows of the plain search (the
	// newest Options.Limit records), or the rows of an earlier pipe.
	consumesRecords() bool
	// neededFields is what the pipe reads of its input rows, given out,
	// what the stages after it read of its output rows (see fieldSet). A
	// pipe that passes its input rows on reads at least out.
	neededFields(out fieldSet) fieldSet
	// newProcessor returns the stage that runs the pipe, passing its rows
	// to next.
	newProcessor(opts Options, next processor) processor
}

// aggregation is implemented by every pipe whose consumesRecords is true:
// what it does is a stats pipe followed by other pipes (top is a stats, a
// sort and a limit). A distributed query runs that stats pipe on each
// indexer up to its groups' states and the rest on the querier
// (partial.go).
type aggregation interface {
	Pipe
	split() (*StatsPipe, []Pipe)
}

// streamingPipe marks pipes that turn each record row into at most one
// record row without holding rows (filter, unpack_json, extract): they run
// on every matching record, before the newest-Limit cut of a plain search.
type streamingPipe interface {
	Pipe
	streaming()
}

func isStreaming(p Pipe) bool {
	_, ok := p.(streamingPipe)
	return ok
}

// processor is a running pipe: push is called for each input row, flush
// once after the last. A processor that needs no more input returns
// errStop from push.
type processor interface {
	push(r Row) error
	flush() error
}

// errStop tells the stage upstream that no more rows are wanted.
var errStop = errors.New("query: no more rows wanted")

// pipeParser parses one pipe's arguments; the pipe's name has already been
// read.
type pipeParser func(p *parser) (Pipe, error)

// pipeRegistry maps pipe names to their parsers. It is filled by init
// functions of the pipe files and read only afterwards.
var pipeRegistry = map[string]pipeParser{}

func registerPipe(name string, parse pipeParser) {
	if _, dup := pipeRegistry[name]; dup {
		panic("query: pipe " + name + " registered twice")
	}
	pipeRegistry[name] = parse
}

func pipeNames() string {
	names := make([]string, 0, len(pipeRegistry))
	for n := range pipeRegistry {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// pipe parses the pipe after a '|'.
func (p *parser) pipe() (Pipe, error) {
	t := p.next()
	if t.kind != tokWord {
		return nil, p.unexpected(t, "a pipe name ("+pipeNames()+")")
	}
	parse, ok := pipeRegistry[strings.ToLower(t.text)]
	if !ok {
		return nil, p.errorf(t.pos, "unknown pipe %q: expected one of %s", t.text, pipeNames())
	}
	pipe, err := parse(p)
	if err != nil {
		return nil, err
	}
	if end := p.peek(); end.kind != tokPipe && end.kind != tokEOF {
		return nil, p.unexpected(end, "'|' or the end of the query after "+t.text)
	}
	return pipe, nil
}

// The helpers below are the vocabulary pipes parse their arguments with.

// atPipeEnd reports whether the pipe's arguments are over.
func (p *parser) atPipeEnd() bool {
	k := p.peek().kind
	return k == tokPipe || k == tokEOF
}

// acceptWord consumes the keyword kw (case-insensitive) if it is next.
func (p *parser) acceptWord(kw string) bool {
	if t := p.peek(); t.kind == tokWord && strings.EqualFold(t.text, kw) {
		p.next()
		return true
	}
	return false
}

func (p *parser) expectWord(kw string) error {
	if !p.acceptWord(kw) {
		return p.unexpected(p.peek(), "'"+kw+"'")
	}
	return nil
}

func (p *parser) accept(kind tokenKind) bool {
	if p.peek().kind == kind {
		p.next()
		return true
	}
	return false
}

func (p *parser) expect(kind tokenKind, what string) (token, error) {
	t := p.next()
	if t.kind != kind {
		return t, p.unexpected(t, what)
	}
	return t, nil
}

// fieldName reads a field name: a plain name or a quoted string.
func (p *parser) fieldName(what string) (string, error) {
	t := p.next()
	switch {
	case t.kind == tokString:
		return t.text, nil
	case t.kind == tokWord && isFieldName(t.text):
		return t.text, nil
	}
	return "", p.unexpected(t, what)
}

// column reads the name of a result column: a field name, a quoted string,
// or the default name of a stats result such as count() or avg(latency_ms).
func (p *parser) column(what string) (string, error) {
	t := p.peek()
	if t.kind == tokWord && p.peekAt(1).kind == tokLParen {
		p.next()
		p.next()
		var args []string
		for !p.accept(tokRParen) {
			if len(args) > 0 {
				if _, err := p.expect(tokComma, "',' or ')'"); err != nil {
					return "", err
				}
			}
			a, err := p.fieldName("a field name")
			if err != nil {
				return "", err
			}
			args = append(args, a)
		}
		return callName(strings.ToLower(t.text), args), nil
	}
	return p.fieldName(what)
}

// callName is the default name of a stats result: the call as written in
// canonical form.
func callName(fn string, args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = fieldString(a)
	}
	return fn + "(" + strings.Join(quoted, ", ") + ")"
}

// columnString prints a column or field name so that column() reads it
// back.
func columnString(name string) string {
	if isPipeKeyword(name) {
		return quote(name)
	}
	if isFieldName(name) {
		return name
	}
	if toks, err := lex("|" + name); err == nil {
		p := &parser{src: "|" + name, toks: toks, i: 1}
		if got, err := p.column(""); err == nil && got == name && p.peek().kind == tokEOF {
			return name
		}
	}
	return quote(name)
}

func isPipeKeyword(s string) bool {
	switch strings.ToLower(s) {
	case "by", "as", "asc", "desc":
		return true
	}
	return false
}

// count reads a non-negative integer.
func (p *parser) count(what string) (int, error) {
	t := p.next()
	if t.kind == tokWord {
		if n, err := strconv.Atoi(t.text); err == nil && n >= 0 {
			return n, nil
		}
	}
	return 0, p.unexpected(t, what)
}
