package query

import (
	"strings"

	"github.com/sluice-log/sluice/internal/record"
)

// withFields returns r with fields added, for the extraction pipes. A field
// of the same name is replaced; the reserved names and stream labels are
// left alone, since a record's names must stay unique. A record row is
// cloned first: the searcher owns the record it passed in.
func withFields(r Row, fields []record.Field) Row {
	if len(fields) == 0 {
		return r
	}
	if r.Record == nil {
		out := Row{Values: append([]Value(nil), r.Values...)}
		for _, f := range fields {
			v := Value{Name: f.Name, Str: f.Value}
			if i := valueIndex(out.Values, f.Name); i >= 0 {
				out.Values[i] = v
			} else {
				out.Values = append(out.Values, v)
			}
		}
		return out
	}
	c := r.Record.Clone()
	for _, f := range fields {
		f.Value = strings.Clone(f.Value)
		switch {
		case f.Name == "" || f.Name == record.MessageField || f.Name == record.TimeField || f.Name == record.StreamField:
		case labelIndex(c.Stream, f.Name) >= 0:
		default:
			if i := labelIndex(c.Fields, f.Name); i >= 0 {
				c.Fields[i] = f
			} else {
				c.Fields = append(c.Fields, f)
			}
		}
	}
	return Row{Record: &c}
}

func valueIndex(vs []Value, name string) int {
	for i := range vs {
		if vs[i].Name == name {
			return i
		}
	}
	return -1
}

func labelIndex(fs []record.Field, name string) int {
	for i := range fs {
		if fs[i].Name == name {
			return i
		}
	}
	return -1
}

// parseFrom reads the optional `from field` of an extraction pipe; the
// default is the message.
func (p *parser) parseFrom() (string, error) {
	if !p.acceptWord("from") {
		return record.MessageField, nil
	}
	return p.fieldName("a field name after 'from'")
}

// fromString prints the `from field` clause when it is not the default.
func fromString(field string) string {
	if field == record.MessageField {
		return ""
	}
	return " from " + fieldString(field)
}

// sourceValue reads the field an extraction pipe parses.
func sourceValue(r Row, field string) string {
	v, _ := r.get(field)
	return v.String()
}
