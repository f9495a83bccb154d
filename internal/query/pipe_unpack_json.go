package query

import (
	"github.com/valyala/fastjson"

	"github.com/sluice-log/sluice/internal/record"
)

func init() { registerPipe("unpack_json", parseUnpackJSON) }

// UnpackJSONPipe is `unpack_json [from field]`: the top-level keys of a
// JSON object in the field (the message by default) become fields. Strings
// are taken as they are, other values as their JSON text. A value that is
// not a JSON object leaves the row as it was.
type UnpackJSONPipe struct {
	From string
}

func (u *UnpackJSONPipe) String() string { return "unpack_json" + fromString(u.From) }

func parseUnpackJSON(p *parser) (Pipe, error) {
	from, err := p.parseFrom()
	if err != nil {
		return nil, err
	}
	return &UnpackJSONPipe{From: from}, nil
}

func (*UnpackJSONPipe) consumesRecords() bool { return false }
func (*UnpackJSONPipe) streaming()            {}

// neededFields: the source field, and whatever later stages read, since
// a row the source does not fill keeps the field it had.
func (u *UnpackJSONPipe) neededFields(out fieldSet) fieldSet { return out.with(u.From) }

func (u *UnpackJSONPipe) newProcessor(_ Options, next processor) processor {
	return &unpackJSONProcessor{from: u.From, next: next}
}

type unpackJSONProcessor struct {
	from   string
	next   processor
	p      fastjson.Parser
	fields []record.Field
}

func (u *unpackJSONProcessor) push(r Row) error {
	return u.next.push(withFields(r, u.unpack(sourceValue(r, u.from))))
}

func (u *unpackJSONProcessor) unpack(s string) []record.Field {
	u.fields = u.fields[:0]
	v, err := u.p.Parse(s)
	if err != nil {
		return nil
	}
	obj, err := v.Object()
	if err != nil {
		return nil
	}
	obj.Visit(func(k []byte, v *fastjson.Value) {
		f := record.Field{Name: string(k)}
		if v.Type() == fastjson.TypeString {
			f.Value = string(v.GetStringBytes())
		} else {
			f.Value = v.String()
		}
		u.fields = append(u.fields, f)
	})
	return u.fields
}

func (u *unpackJSONProcessor) flush() error { return u.next.flush() }
