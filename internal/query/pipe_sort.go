package query

import (
	"sort"
	"strings"

	"github.com/sluice-log/sluice/internal/record"
)

func init() { registerPipe("sort", parseSort) }

// SortPipe is `sort by f [asc|desc], …`. It holds all its input rows, which
// are bounded: a plain search's Limit, or a stats pipe's groups.
type SortPipe struct {
	Keys []SortKey
}

// SortKey is one column to sort by.
type SortKey struct {
	Field string
	Desc  bool
}

func (s *SortPipe) String() string {
	keys := make([]string, len(s.Keys))
	for i, k := range s.Keys {
		keys[i] = columnString(k.Field)
		if k.Desc {
			keys[i] += " desc"
		}
	}
	return "sort by " + strings.Join(keys, ", ")
}

func parseSort(p *parser) (Pipe, error) {
	if err := p.expectWord("by"); err != nil {
		return nil, err
	}
	s := &SortPipe{}
	for {
		f, err := p.column("a field to sort by")
		if err != nil {
			return nil, err
		}
		k := SortKey{Field: f}
		if p.acceptWord("desc") {
			k.Desc = true
		} else {
			p.acceptWord("asc")
		}
		s.Keys = append(s.Keys, k)
		if !p.accept(tokComma) {
			return s, nil
		}
	}
}

func (*SortPipe) consumesRecords() bool { return false }

// neededFields: sort reads its keys and passes its rows on whole.
func (s *SortPipe) neededFields(out fieldSet) fieldSet {
	for _, k := range s.Keys {
		out = out.with(k.Field)
	}
	return out
}

func (s *SortPipe) newProcessor(_ Options, next processor) processor {
	p := &sortProcessor{keys: s.Keys, next: next}
	// `sort … | limit N` needs only the first N rows: they are kept in a
	// bounded heap instead of sorting every group of a large stats.
	if l, ok := next.(*limitProcessor); ok {
		p.top = &topRows{limit: l.left, less: p.less}
	}
	return p
}

type sortProcessor struct {
	keys []SortKey
	rows []Row
	top  *topRows // when a limit follows
	next processor
}

func (s *sortProcessor) push(r Row) error {
	if s.top != nil {
		s.top.offer(r)
		return nil
	}
	s.rows = append(s.rows, r)
	return nil
}

// less orders rows by the sort keys; equal rows keep their input order.
func (s *sortProcessor) less(a, b Row) bool {
	for _, k := range s.keys {
		c, blank := compareField(a, b, k.Field)
		if k.Desc && !blank {
			c = -c
		}
		if c != 0 {
			return c < 0
		}
	}
	return false
}

func (s *sortProcessor) flush() error {
	if s.top != nil {
		s.rows = s.top.sorted()
	} else {
		sort.SliceStable(s.rows, func(i, j int) bool { return s.less(s.rows[i], s.rows[j]) })
	}
	for _, r := range s.rows {
		if err := s.next.push(r); err != nil {
			if err == errStop {
				break
			}
			return err
		}
	}
	return s.next.flush()
}

// compareField compares two rows by one field; record times compare as
// times, not as their text. blank is set when exactly one of the values is
// missing or empty: that row goes last whatever the direction, as in
// Kibana.
func compareField(a, b Row, field string) (c int, blank bool) {
	if field == record.TimeField && a.Record != nil && b.Record != nil {
		switch {
		case a.Record.Time < b.Record.Time:
			return -1, false
		case a.Record.Time > b.Record.Time:
			return 1, false
		}
		return 0, false
	}
	av, _ := a.get(field)
	bv, _ := b.get(field)
	ae, be := isBlank(av), isBlank(bv)
	switch {
	case ae && !be:
		return 1, true
	case be && !ae:
		return -1, true
	}
	return compareValues(av, bv), false
}

func isBlank(v Value) bool { return !v.IsNum && v.Str == "" }
