package ingest

import (
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/sluice-log/sluice/internal/record"
)

// maxErrorValue bounds how much of a bad value an error message quotes.
const maxErrorValue = 64

// A Converter turns JSON objects into records following a RecordConfig:
// nested objects are flattened with dotted names, arrays are kept as their
// JSON text, numbers as their literal text, booleans as "true"/"false", and
// nulls are skipped. A name that occurs twice keeps its last value at the
// place of its first. Invalid UTF-8 becomes U+FFFD.
//
// A Converter reuses its buffers between calls and is not safe for
// concurrent use.
type Converter struct {
	cfg RecordConfig
	// stream holds cfg.StreamFields sorted and without repeats, so that
	// labels come out in record.SortStream's order without sorting.
	stream []string
	labels []int // scratch: the entries of the stream labels
	// valid says that the object being flattened is valid UTF-8 as a
	// whole; then so is every name and value taken from it (fastjson's
	// unescaping writes valid UTF-8 only), and they are copied without
	// checking each on its own.
	valid bool
	p     fastjson.Parser
	b     FieldBuilder
	arena recordArena
}

// role says what a field became: a FieldEntry's Role.
type role = uint8

const (
	roleField role = iota
	roleTime
	roleMessage
	roleStream
	roleDropped
)

// NewConverter returns a Converter for cfg.
func NewConverter(cfg RecordConfig) *Converter {
	stream := slices.Clone(cfg.StreamFields)
	slices.Sort(stream)
	return &Converter{cfg: cfg, stream: slices.Compact(stream), b: FieldBuilder{MaxFields: cfg.MaxFieldsPerRecord}}
}

// Convert parses js, which must hold one JSON object, into a record of
// tenant whose time defaults to now. The extra fields are added as they
// are, first and sharing their strings: a field the receiver gives every
// record of a request (the Elasticsearch receiver's _index) then sits at
// the same position in each, where the WAL stores it once per request
// (record.FindShared). A field of the object with one of their names is an
// error, since the receiver sets those (_index and _id).
func (c *Converter) Convert(js []byte, now time.Time, tenant string, extra []record.Field) (record.Record, error) {
	c.b.Reset()
	v, err := c.p.ParseBytes(js)
	if err != nil {
		return record.Record{}, fmt.Errorf("%w: %s", ErrBadJSON, err)
	}
	c.valid = utf8.Valid(js)
	o, err := v.Object()
	if err != nil {
		return record.Record{}, fmt.Errorf("%w: got %s", ErrNotObject, v.Type())
	}
	c.flatten(o, 0)
	if c.b.Err != nil {
		return record.Record{}, c.b.Err
	}
	for _, f := range extra {
		if FindField(&c.b, f.Name) >= 0 {
			return record.Record{}, fmt.Errorf("%w: field %q is set by the receiver and cannot be in the document", ErrFieldName, f.Name)
		}
	}
	if c.b.MaxFields > 0 && len(c.b.Ents)+len(extra) > c.b.MaxFields {
		return record.Record{}, fmt.Errorf("%w: more than %d", ErrTooManyFields, c.b.MaxFields)
	}
	return c.build(now, tenant, extra)
}

// flatten adds the fields of o, whose dotted name prefix is c.b.Name[:prefix].
func (c *Converter) flatten(o *fastjson.Object, prefix int) {
	o.Visit(func(key []byte, v *fastjson.Value) {
		if c.b.Err != nil {
			return
		}
		if len(key) == 0 {
			c.b.Err = fmt.Errorf("%w: empty field name under %q", ErrFieldName, c.b.Name[:prefix])
			return
		}
		c.b.Name = c.b.Name[:prefix]
		if prefix > 0 {
			c.b.Name = append(c.b.Name, '.')
		}
		c.b.Name = c.appendText(c.b.Name, key)
		switch v.Type() {
		case fastjson.TypeNull:
		case fastjson.TypeObject:
			c.flatten(v.GetObject(), len(c.b.Name))
		case fastjson.TypeString:
			s, _ := v.StringBytes()
			c.addValue(s)
		case fastjson.TypeTrue:
			c.addValue([]byte("true"))
		case fastjson.TypeFalse:
			c.addValue([]byte("false"))
		default: // numbers keep their literal text, arrays their JSON text
			c.addMarshaled(v)
		}
	})
}

// addValue adds the field named c.b.Name with value s.
func (c *Converter) addValue(s []byte) {
	if string(c.b.Name) == record.StreamField {
		// The stream is derived from the stream labels, so an exported
		// _stream (from a query result fed back in) carries nothing new.
		return
	}
	i := c.b.AddName()
	if i < 0 { // the record is already rejected
		return
	}
	c.b.Buf = c.appendText(c.b.Buf, s)
	c.b.EndValue(i)
}

// appendText appends s, a name or value of the object being flattened,
// with every invalid byte replaced by U+FFFD.
func (c *Converter) appendText(dst, s []byte) []byte {
	if c.valid {
		return append(dst, s...)
	}
	return AppendValidUTF8(dst, s)
}

func (c *Converter) addMarshaled(v *fastjson.Value) {
	if string(c.b.Name) == record.StreamField {
		return
	}
	i := c.b.AddName()
	if i < 0 {
		return
	}
	vs := len(c.b.Buf)
	c.b.Buf = v.MarshalTo(c.b.Buf)
	if !c.valid && !utf8.Valid(c.b.Buf[vs:]) {
		raw := append([]byte(nil), c.b.Buf[vs:]...)
		c.b.Buf = AppendValidUTF8(c.b.Buf[:vs], raw)
	}
	c.b.EndValue(i)
}

// take gives role to the first of names that is present and still an
// ordinary field, and returns it; -1 if there is none. When skipEmpty is set,
// empty values are dropped on the way, since many loggers write an empty
// time for "unset".
func (c *Converter) take(names []string, r role, skipEmpty bool) int {
	for _, name := range names {
		i := FindField(&c.b, name)
		if i < 0 || c.b.Ents[i].Role != roleField {
			continue
		}
		if skipEmpty && len(c.b.Value(i)) == 0 {
			c.b.Ents[i].Role = roleDropped
			continue
		}
		c.b.Ents[i].Role = r
		return i
	}
	return -1
}

// build turns the collected fields into a record: it picks the time, the
// message and the stream labels, and checks that no reserved name is left.
func (c *Converter) build(now time.Time, tenant string, extra []record.Field) (record.Record, error) {
	r := record.Record{Time: now.UnixNano(), Tenant: tenant}
	if i := c.take(c.cfg.TimeFields, roleTime, true); i >= 0 {
		ts, ok := ParseTime(string(c.b.Value(i)))
		if !ok {
			e := &c.b.Ents[i]
			return record.Record{}, fmt.Errorf("%w: field %q has value %q; accepted: %s",
				ErrBadTime, c.b.Buf[e.NameStart:e.NameEnd], quoteLimit(c.b.Value(i)), TimeFormats)
		}
		r.Time = ts
	}
	c.take(c.cfg.MessageFields, roleMessage, false)
	// The stream labels' entries, in c.stream's order, for the record
	// below; they are looked up once.
	labels := c.labels[:0]
	for _, name := range c.stream {
		if i := FindField(&c.b, name); i >= 0 && c.b.Ents[i].Role == roleField {
			c.b.Ents[i].Role = roleStream
			labels = append(labels, i)
		}
	}
	c.labels = labels
	nfields, nstream := 0, 0
	for i := range c.b.Ents {
		e := &c.b.Ents[i]
		switch e.Role {
		case roleField:
			if name := c.b.Buf[e.NameStart:e.NameEnd]; string(name) == record.TimeField || string(name) == record.MessageField {
				return record.Record{}, fmt.Errorf("%w: field %q is reserved; name it in %s or %s to use it",
					ErrFieldName, name, QueryTimeField, QueryMsgField)
			} else if string(name) == record.TenantField {
				return record.Record{}, fmt.Errorf("%w: field %q is reserved: the tenant comes from the request's key (or X-Scope-OrgID), never from a record",
					ErrFieldName, name)
			}
			nfields++
		case roleStream:
			nstream++
		}
	}

	// One string holds every name and value, and the arena gives the
	// records of a request their text and field slices from shared chunks,
	// so a record costs a fraction of an allocation however many fields it
	// has.
	text := c.arena.String(c.b.Buf)
	r.Fields = append(c.arena.Fields(nfields+len(extra)), extra...)
	r.Stream = c.arena.Fields(nstream)
	for i := range c.b.Ents {
		e := &c.b.Ents[i]
		switch e.Role {
		case roleField:
			r.Fields = append(r.Fields, record.Field{Name: text[e.NameStart:e.NameEnd], Value: text[e.ValueStart:e.ValueEnd]})
		case roleMessage:
			r.Message = text[e.ValueStart:e.ValueEnd]
		}
	}
	for _, i := range labels {
		e := &c.b.Ents[i]
		r.Stream = append(r.Stream, record.Field{Name: text[e.NameStart:e.NameEnd], Value: text[e.ValueStart:e.ValueEnd]})
	}
	// Last, on the whole record: the window's cardinality bounds read its
	// stream and field names.
	if err := c.cfg.Window.Check(&r, now); err != nil {
		return record.Record{}, err
	}
	return r, nil
}

func quoteLimit(b []byte) []byte {
	if len(b) <= maxErrorValue {
		return b
	}
	cut := maxErrorValue
	for cut > 0 && !utf8.RuneStart(b[cut]) {
		cut--
	}
	return append(b[:cut:cut], "…"...)
}
