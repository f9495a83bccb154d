package query

import (
	"strconv"
	"strings"
)

func init() { registerPipe("top", parseTop) }

// TopPipe is `top N by f, …`: the N most frequent value combinations of
// the fields with their counts, most frequent first. It is shorthand for
// `stats count() as count by f, … | sort by count desc | limit N`.
type TopPipe struct {
	N  int
	By []string
}

// topCountColumn names the count column of top's rows.
const topCountColumn = "count"

func (t *TopPipe) String() string {
	by := make([]string, len(t.By))
	for i, f := range t.By {
		by[i] = fieldString(f)
	}
	return "top " + strconv.Itoa(t.N) + " by " + strings.Join(by, ", ")
}

func parseTop(p *parser) (Pipe, error) {
	t := &TopPipe{}
	var err error
	if t.N, err = p.count("the number of rows, as in top 10 by service"); err != nil {
		return nil, err
	}
	if err := p.expectWord("by"); err != nil {
		return nil, err
	}
	paren := p.accept(tokLParen)
	for {
		start := p.peek().pos
		f, err := p.fieldName("a field to count by")
		if err != nil {
			return nil, err
		}
		if f == topCountColumn {
			return nil, p.errorf(start, "top names its count column %q; rename the field first with fields %s as other", topCountColumn, topCountColumn)
		}
		t.By = append(t.By, f)
		if !p.accept(tokComma) {
			break
		}
	}
	if paren {
		if _, err := p.expect(tokRParen, "',' or ')' after the fields"); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func (*TopPipe) consumesRecords() bool { return true }

// neededFields: top reads only the fields it counts by.
func (t *TopPipe) neededFields(fieldSet) fieldSet { return fieldSet{}.with(t.By...) }

func (t *TopPipe) newProcessor(opts Options, next processor) processor {
	stats, after := t.split()
	for i := len(after) - 1; i >= 0; i-- {
		next = after[i].newProcessor(opts, next)
	}
	return stats.newProcessor(opts, next)
}

// split: top is `stats count() as count by … | sort by count desc | limit N`.
func (t *TopPipe) split() (*StatsPipe, []Pipe) {
	stats := &StatsPipe{Funcs: []StatsCall{{Func: statsCount{}, Name: topCountColumn}}}
	for _, f := range t.By {
		stats.By = append(stats.By, GroupKey{Field: f})
	}
	return stats, []Pipe{&SortPipe{Keys: []SortKey{{Field: topCountColumn, Desc: true}}}, &LimitPipe{N: t.N}}
}
