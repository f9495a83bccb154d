package query

import (
	"time"

	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/store"
)

func init() {
	registerPipe("filter", parseFilterPipe)
	registerPipe("where", parseFilterPipe)
}

// FilterPipe is `filter <filter>` (also `where`): the rows that the filter
// matches, with the same grammar as the query's own filter. After stats it
// filters groups, like SQL's HAVING (`| filter n:>100`); after extraction
// it filters on the extracted fields.
type FilterPipe struct {
	Filter Node
}

func (f *FilterPipe) String() string { return "filter " + f.Filter.String() }

func parseFilterPipe(p *parser) (Pipe, error) {
	if p.atPipeEnd() {
		return nil, p.unexpected(p.peek(), "a filter after 'filter', like n:>100")
	}
	n, err := p.or("")
	if err != nil {
		return nil, err
	}
	return &FilterPipe{Filter: n}, nil
}

func (*FilterPipe) consumesRecords() bool { return false }
func (*FilterPipe) streaming()            {}

// neededFields: the rows that pass are output as they came in.
func (f *FilterPipe) neededFields(out fieldSet) fieldSet { return out.union(nodeFields(f.Filter)) }

func (f *FilterPipe) newProcessor(opts Options, next processor) processor {
	return &filterProcessor{f: compile(f.Filter, compileEnv{now: opts.Now, ctx: opts.ctx}), next: next}
}

type filterProcessor struct {
	f       store.Filter
	next    processor
	scratch record.Record
}

func (f *filterProcessor) push(r Row) error {
	if f.f.Match(f.asRecord(r)) {
		return f.next.push(r)
	}
	return nil
}

func (f *filterProcessor) flush() error { return f.next.flush() }

// asRecord presents a row to a store.Filter: a stats row becomes a record
// whose fields are its columns.
func (f *filterProcessor) asRecord(r Row) *record.Record {
	if r.Record != nil {
		return r.Record
	}
	rec := &f.scratch
	*rec = record.Record{Fields: rec.Fields[:0]}
	for _, v := range r.Values {
		switch v.Name {
		case record.MessageField:
			rec.Message = v.String()
		case record.TimeField:
			if t, err := time.Parse(time.RFC3339Nano, v.Str); err == nil {
				rec.Time = t.UnixNano()
			}
		default:
			rec.Fields = append(rec.Fields, record.Field{Name: v.Name, Value: v.String()})
		}
	}
	return rec
}
