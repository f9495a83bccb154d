package query

import (
	"slices"
	"strings"

	"github.com/sluice-log/sluice/internal/record"
)

// Query is a parsed query: a filter and the pipes that shape its result. A
// nil Filter selects everything.
type Query struct {
	Filter Node
	Pipes  []Pipe
}

// String prints the canonical form of q; Parse(q.String()) yields an equal
// Query.
func (q *Query) String() string {
	var b strings.Builder
	if q.Filter == nil {
		b.WriteString(MatchAll{}.String())
	} else {
		b.WriteString(q.Filter.String())
	}
	for _, p := range q.Pipes {
		b.WriteString(" | ")
		b.WriteString(p.String())
	}
	return b.String()
}

// Node is a node of the filter's syntax tree. Its String is the canonical
// text of the node.
type Node interface {
	String() string
	node()
}

// MatchAll is `*`: every record.
type MatchAll struct{}

// Phrase matches when the field's tokens contain Value's tokens
// consecutively; a bare word or "quoted phrase" is a Phrase on _msg. A Value
// without tokens (like "" or "-") matches a field whose whole value equals it.
type Phrase struct {
	Field, Value string
}

// Prefix is `field:abc*`: the field's tokens contain Value's tokens
// consecutively, the last of them as a prefix.
type Prefix struct {
	Field, Value string
}

// Exists is `field:*`: the field is present and not empty.
type Exists struct {
	Field string
}

// Compare is `field:>=value` and its siblings; Op is one of <, <=, >, >=.
type Compare struct {
	Field, Op, Value string
}

// Bound is one end of a Range; Unbounded is `*`.
type Bound struct {
	Value     string
	Unbounded bool
}

// Range is `field:[lo TO hi]`, with {} for exclusive ends.
type Range struct {
	Field          string
	Lo, Hi         Bound
	LoIncl, HiIncl bool
}

// And matches when all its children match.
type And struct{ Children []Node }

// Or matches when any child matches.
type Or struct{ Children []Node }

// Not matches when its child does not.
type Not struct{ Child Node }

func (MatchAll) node() {}
func (Phrase) node()   {}
func (Prefix) node()   {}
func (Exists) node()   {}
func (Compare) node()  {}
func (Range) node()    {}
func (And) node()      {}
func (Or) node()       {}
func (Not) node()      {}

func (MatchAll) String() string { return "*" }

func (n Phrase) String() string {
	if n.Field == record.MessageField {
		if isPlainWord(n.Value, true) {
			return n.Value
		}
		return quote(n.Value)
	}
	return n.Field + ":" + valueString(n.Value)
}

func (n Prefix) String() string {
	if n.Field == record.MessageField && isPlainWord(n.Value, true) {
		return n.Value + "*"
	}
	return n.Field + ":" + n.Value + "*"
}

func (n Exists) String() string { return n.Field + ":*" }

func (n Compare) String() string { return n.Field + ":" + n.Op + valueString(n.Value) }

func (n Range) String() string {
	open, closing := "{", "}"
	if n.LoIncl {
		open = "["
	}
	if n.HiIncl {
		closing = "]"
	}
	return n.Field + ":" + open + n.Lo.String() + " TO " + n.Hi.String() + closing
}

func (b Bound) String() string {
	if b.Unbounded {
		return "*"
	}
	return valueString(b.Value)
}

func (n And) String() string {
	return joinNodes(n.Children, " AND ", func(c Node) bool { _, or := c.(Or); return or })
}

func (n Or) String() string { return joinNodes(n.Children, " OR ", func(Node) bool { return false }) }

func (n Not) String() string {
	switch n.Child.(type) {
	case And, Or:
		return "NOT (" + n.Child.String() + ")"
	}
	return "NOT " + n.Child.String()
}

// joinNodes prints children with sep; nested nodes of the same kind are
// parenthesised too, so that a tree that the parser would have flattened
// still prints as the same tree.
func joinNodes(children []Node, sep string, paren func(Node) bool) string {
	var b strings.Builder
	for i, c := range children {
		if i > 0 {
			b.WriteString(sep)
		}
		_, and := c.(And)
		_, or := c.(Or)
		if paren(c) || (and && sep == " AND ") || (or && sep == " OR ") {
			b.WriteString("(" + c.String() + ")")
			continue
		}
		b.WriteString(c.String())
	}
	return b.String()
}

// AndFilter returns a copy of q whose filter also requires n, added at
// the top level (where a _time condition still narrows the searched
// range). q is not changed; the pipes are shared.
func (q *Query) AndFilter(n Node) *Query {
	out := &Query{Pipes: q.Pipes}
	switch f := q.Filter.(type) {
	case nil, MatchAll:
		out.Filter = And{Children: []Node{n}}
	case And:
		out.Filter = And{Children: append(slices.Clip(f.Children), n)}
	default:
		out.Filter = And{Children: []Node{f, n}}
	}
	return out
}
