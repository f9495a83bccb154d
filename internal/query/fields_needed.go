package query

import (
	"sort"

	"github.com/sluice-log/sluice/internal/record"
)

// fieldSet is what a stage reads of its input rows: every field (all, as
// when whole records are output), or only the named ones. Knowing it for
// the first stage lets the store build only those fields of each record
// (store.SearchRequest.Fields), which is most of the cost of an
// aggregation over many records.
type fieldSet struct {
	all   bool
	names map[string]bool
}

func everyField() fieldSet { return fieldSet{all: true} }

// with returns s plus names. _time and _stream are left out: the store
// always fills a record's time and stream labels, so reading them needs
// nothing built.
func (s fieldSet) with(names ...string) fieldSet {
	if s.all {
		return s
	}
	out := fieldSet{names: make(map[string]bool, len(s.names)+len(names))}
	for n := range s.names {
		out.names[n] = true
	}
	for _, n := range names {
		if n != record.TimeField && n != record.StreamField {
			out.names[n] = true
		}
	}
	return out
}

// union returns the fields either s or o reads.
func (s fieldSet) union(o fieldSet) fieldSet {
	if s.all || o.all {
		return everyField()
	}
	names := make([]string, 0, len(o.names))
	for n := range o.names {
		names = append(names, n)
	}
	return s.with(names...)
}

// list is the set as SearchRequest.Fields: nil for every field, else the
// sorted names (empty, not nil, for none).
func (s fieldSet) list() []string {
	if s.all {
		return nil
	}
	out := make([]string, 0, len(s.names))
	for n := range s.names {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// searchFields is the smallest SearchRequest.Fields that gives q's answer:
// what the filter reads plus what the first pipe reads, given what each
// later pipe reads of its predecessor's rows. Rows that reach the caller
// as records are output whole, so a query that ends in records reads every
// field.
func (q *Query) searchFields() []string {
	need := everyField()
	for i := len(q.Pipes) - 1; i >= 0; i-- {
		need = q.Pipes[i].neededFields(need)
	}
	return need.union(nodeFields(q.Filter)).list()
}

// nodeFields is what evaluating the filter n on a record reads. A node
// type not listed here reads every field, so a new filter is correct
// before it is optimised.
func nodeFields(n Node) fieldSet {
	none := fieldSet{}
	switch n := n.(type) {
	case nil, MatchAll, StreamSelector:
		return none
	case Phrase:
		return none.with(n.Field)
	case Prefix:
		return none.with(n.Field)
	case Exists:
		return none.with(n.Field)
	case Compare:
		return none.with(n.Field)
	case Range:
		return none.with(n.Field)
	case Wildcard:
		return none.with(n.Field)
	case Regex:
		return none.with(n.Field)
	case Exact:
		return none.with(n.Field)
	case And:
		return childFields(n.Children)
	case Or:
		return childFields(n.Children)
	case Not:
		return nodeFields(n.Child)
	}
	return everyField()
}

func childFields(children []Node) fieldSet {
	s := fieldSet{}
	for _, c := range children {
		s = s.union(nodeFields(c))
	}
	return s
}
