package query

import (
	"strings"
	"time"

	"github.com/sluice-log/sluice/internal/record"
)

func init() { registerPipe("fields", parseFields) }

// FieldsPipe is `fields a, b as c`: rows with only the named columns, in
// that order, renamed where asked. A missing field gives an empty column.
type FieldsPipe struct {
	Fields []FieldRename
}

// FieldRename is one column of a fields pipe: From as it is named in the
// row, To as it is named in the result.
type FieldRename struct {
	From, To string
}

func (f *FieldsPipe) String() string {
	cols := make([]string, len(f.Fields))
	for i, c := range f.Fields {
		cols[i] = columnString(c.From)
		if c.To != c.From {
			cols[i] += " as " + fieldString(c.To)
		}
	}
	return "fields " + strings.Join(cols, ", ")
}

func parseFields(p *parser) (Pipe, error) {
	f := &FieldsPipe{}
	seen := map[string]bool{}
	for {
		start := p.peek().pos
		from, err := p.column("a field name")
		if err != nil {
			return nil, err
		}
		c := FieldRename{From: from, To: from}
		if p.acceptWord("as") {
			if c.To, err = p.fieldName("a column name after 'as'"); err != nil {
				return nil, err
			}
		}
		if seen[c.To] {
			return nil, p.errorf(start, "duplicate column %q: name columns apart with 'as'", c.To)
		}
		seen[c.To] = true
		f.Fields = append(f.Fields, c)
		if !p.accept(tokComma) {
			return f, nil
		}
	}
}

func (*FieldsPipe) consumesRecords() bool { return false }

// neededFields: fields outputs only the columns it names.
func (f *FieldsPipe) neededFields(fieldSet) fieldSet {
	need := fieldSet{}
	for _, c := range f.Fields {
		need = need.with(c.From)
	}
	return need
}

func (f *FieldsPipe) newProcessor(_ Options, next processor) processor {
	return &fieldsProcessor{pipe: f, next: next}
}

type fieldsProcessor struct {
	pipe *FieldsPipe
	next processor
}

func (f *fieldsProcessor) push(r Row) error {
	out := Row{Values: make([]Value, len(f.pipe.Fields))}
	for i, c := range f.pipe.Fields {
		var v Value
		if c.From == record.TimeField && r.Record != nil {
			v.Str = time.Unix(0, r.Record.Time).UTC().Format(time.RFC3339Nano)
		} else {
			v, _ = r.get(c.From)
			// Record rows' strings may be reused once the row is gone.
			v.Str = strings.Clone(v.Str)
		}
		v.Name = c.To
		out.Values[i] = v
	}
	return f.next.push(out)
}

func (f *fieldsProcessor) flush() error { return f.next.flush() }
