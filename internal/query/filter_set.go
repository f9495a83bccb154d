package query

import (
	"time"

	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/store"
)

// FilterSet matches a fixed set of filters against one record at a time,
// for callers that run many filters on every ingested record (flows):
//
//   - a filter's top-level AND terms are compiled once per distinct term
//     (by its printed form), and a term that several filters share is
//     evaluated at most once per record;
//   - a filter with a term that asks for one word in a field
//     (service:payments) is anchored on it: it is only tried on the records
//     whose field holds that word, found by tokenising the field once per
//     record and looking its tokens up, so that records of other services
//     cost no match of that filter at all.
//
// The answers are those of each filter's own Match (the anchor uses the
// tokeniser the phrase filter uses). A FilterSet is immutable; each
// goroutine matches through a SetMatcher of its own.
type FilterSet struct {
	terms   []store.Filter
	filters [][]int32 // per filter, the terms left to evaluate (its anchor removed)
	anchors []anchorField
	always  []int32 // filters without an anchor: tried on every record
}

type anchorField struct {
	field string
	byTok map[string][]int32 // word → filters anchored on it
}

// NewFilterSet compiles filters (nil matches everything) with relative
// times resolved against now.
func NewFilterSet(filters []Node, now time.Time) *FilterSet {
	s := &FilterSet{filters: make([][]int32, len(filters))}
	env := compileEnv{now: now}
	termIndex := map[string]int32{}
	conj := make([][]Node, len(filters))
	// Each filter anchors on the field whose words its filters spread
	// over most (the fewer filters a word selects, the fewer are tried
	// per record), then on the one most filters share, so that fewer
	// fields are tokenised per record.
	use := map[string]*fieldUse{}
	for i, f := range filters {
		conj[i] = conjuncts(f, nil)
		seen := map[string]bool{}
		for _, c := range conj[i] {
			w, ok := anchorWord(c)
			if !ok {
				continue
			}
			field := c.(Phrase).Field
			u := use[field]
			if u == nil {
				u = &fieldUse{words: map[string]bool{}}
				use[field] = u
			}
			u.words[w] = true
			if !seen[field] {
				seen[field] = true
				u.filters++
			}
		}
	}
	// The message is long to tokenise: matching a word in it directly costs
	// less, unless several filters look up their words in one pass.
	if u := use[record.MessageField]; u != nil && u.filters < msgAnchorMin {
		delete(use, record.MessageField)
	}
	anchorAt := map[string]int{}
	for i, cs := range conj {
		best := -1
		for j, c := range cs {
			if _, ok := anchorWord(c); !ok || use[c.(Phrase).Field] == nil {
				continue
			}
			if best < 0 || use[c.(Phrase).Field].better(use[cs[best].(Phrase).Field]) {
				best = j
			}
		}
		for j, c := range cs {
			if j == best {
				continue
			}
			key := c.String()
			t, ok := termIndex[key]
			if !ok {
				t = int32(len(s.terms))
				termIndex[key] = t
				s.terms = append(s.terms, compile(c, env))
			}
			s.filters[i] = append(s.filters[i], t)
		}
		if best < 0 {
			s.always = append(s.always, int32(i))
			continue
		}
		p := cs[best].(Phrase)
		w, _ := anchorWord(p)
		a, ok := anchorAt[p.Field]
		if !ok {
			a = len(s.anchors)
			anchorAt[p.Field] = a
			s.anchors = append(s.anchors, anchorField{field: p.Field, byTok: map[string][]int32{}})
		}
		s.anchors[a].byTok[w] = append(s.anchors[a].byTok[w], int32(i))
	}
	return s
}

// conjuncts appends the terms of n's top-level AND (n itself when it is
// not one).
func conjuncts(n Node, dst []Node) []Node {
	switch n := n.(type) {
	case nil, MatchAll:
		return dst
	case And:
		for _, c := range n.Children {
			dst = conjuncts(c, dst)
		}
		return dst
	}
	return append(dst, n)
}

// anchorWord returns the word a term asks for when it is a phrase of
// exactly one word in a field: then a record matches the term exactly when
// one of the field's tokens is that word.
func anchorWord(n Node) (string, bool) {
	p, ok := n.(Phrase)
	if !ok || p.Field == record.TimeField {
		return "", false
	}
	toks := record.TokenList(p.Value)
	if len(toks) != 1 {
		return "", false
	}
	return toks[0], true
}

// msgAnchorMin is how many filters must be able to anchor on the message
// for it to be tokenised once per record for them.
const msgAnchorMin = 4

type fieldUse struct {
	words   map[string]bool
	filters int
}

func (a *fieldUse) better(b *fieldUse) bool {
	if len(a.words) != len(b.words) {
		return len(a.words) > len(b.words)
	}
	return a.filters > b.filters
}

// Len is the number of filters.
func (s *FilterSet) Len() int { return len(s.filters) }

// SetMatcher matches records against a FilterSet; it holds per-record
// scratch and is not safe for concurrent use.
type SetMatcher struct {
	s *FilterSet
	// gen numbers the record being matched: a term's cached answer and a
	// filter's "tried" mark are current when they carry it, so nothing is
	// cleared between records.
	gen       uint32
	termGen   []uint32
	termVal   []bool
	filterGen []uint32
	matched   []int
}

// Matcher returns a SetMatcher of s.
func (s *FilterSet) Matcher() *SetMatcher {
	return &SetMatcher{s: s, termGen: make([]uint32, len(s.terms)), termVal: make([]bool, len(s.terms)),
		filterGen: make([]uint32, len(s.filters))}
}

// Match returns the indexes of the filters r matches, in no particular
// order; the slice is reused by the next call.
func (m *SetMatcher) Match(r *record.Record) []int {
	m.gen++
	if m.gen == 0 {
		clear(m.termGen)
		clear(m.filterGen)
		m.gen = 1
	}
	m.matched = m.matched[:0]
	for _, i := range m.s.always {
		m.try(r, i)
	}
	for a := range m.s.anchors {
		af := &m.s.anchors[a]
		v, _ := r.Get(af.field)
		if v == "" {
			continue
		}
		record.Tokens(v, func(tok string) {
			for _, i := range af.byTok[tok] {
				m.try(r, i)
			}
		})
	}
	return m.matched
}

// try evaluates filter i on r once per record.
func (m *SetMatcher) try(r *record.Record, i int32) {
	if m.filterGen[i] == m.gen {
		return
	}
	m.filterGen[i] = m.gen
	for _, t := range m.s.filters[i] {
		if m.termGen[t] != m.gen {
			m.termGen[t] = m.gen
			m.termVal[t] = m.s.terms[t].Match(r)
		}
		if !m.termVal[t] {
			return
		}
	}
	m.matched = append(m.matched, int(i))
}
