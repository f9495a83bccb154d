package ingest

import (
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/sluice-log/sluice/internal/record"
)

// indexThreshold is the field count from which a Converter looks names up in
// a map rather than by scanning; typical log lines stay below it.
const indexThreshold = 32

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
	p      fastjson.Parser
	buf    []byte // names and values of the record being built
	name   []byte // the dotted name being built while flattening
	ents   []entry
	idx    map[string]int // name -> ents index, once there are many fields
	err    error
}

type entry struct {
	nameStart, nameEnd   int
	valueStart, valueEnd int
	role                 role
}

// role says what a field became.
type role uint8

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
	return &Converter{cfg: cfg, stream: slices.Compact(stream)}
}

// Convert parses js, which must hold one JSON object, into a record of
// tenant whose time defaults to now. The extra fields are added as they are;
// a field of the object with one of their names is an error, since the
// receiver sets those (the Elasticsearch receiver's _index and _id).
func (c *Converter) Convert(js []byte, now time.Time, tenant string, extra []record.Field) (record.Record, error) {
	c.reset()
	v, err := c.p.ParseBytes(js)
	if err != nil {
		return record.Record{}, fmt.Errorf("%w: %s", ErrBadJSON, err)
	}
	o, err := v.Object()
	if err != nil {
		return record.Record{}, fmt.Errorf("%w: got %s", ErrNotObject, v.Type())
	}
	c.flatten(o, 0)
	for _, f := range extra {
		if c.err != nil {
			break
		}
		if findName(c, f.Name) >= 0 {
			return record.Record{}, fmt.Errorf("%w: field %q is set by the receiver and cannot be in the document", ErrFieldName, f.Name)
		}
		c.name = append(c.name[:0], f.Name...)
		i := c.addName()
		c.buf = append(c.buf, f.Value...)
		c.ents[i].valueEnd = len(c.buf)
	}
	if c.err != nil {
		return record.Record{}, c.err
	}
	return c.build(now, tenant)
}

func (c *Converter) reset() {
	c.buf = c.buf[:0]
	c.name = c.name[:0]
	c.ents = c.ents[:0]
	c.idx = nil
	c.err = nil
}

// flatten adds the fields of o, whose dotted name prefix is c.name[:prefix].
func (c *Converter) flatten(o *fastjson.Object, prefix int) {
	o.Visit(func(key []byte, v *fastjson.Value) {
		if c.err != nil {
			return
		}
		if len(key) == 0 {
			c.err = fmt.Errorf("%w: empty field name under %q", ErrFieldName, c.name[:prefix])
			return
		}
		c.name = c.name[:prefix]
		if prefix > 0 {
			c.name = append(c.name, '.')
		}
		c.name = appendValidUTF8(c.name, key)
		switch v.Type() {
		case fastjson.TypeNull:
		case fastjson.TypeObject:
			c.flatten(v.GetObject(), len(c.name))
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

// addValue adds the field named c.name with value s.
func (c *Converter) addValue(s []byte) {
	if string(c.name) == record.StreamField {
		// The stream is derived from the stream labels, so an exported
		// _stream (from a query result fed back in) carries nothing new.
		return
	}
	i := c.addName()
	c.buf = appendValidUTF8(c.buf, s)
	c.ents[i].valueEnd = len(c.buf)
}

func (c *Converter) addMarshaled(v *fastjson.Value) {
	if string(c.name) == record.StreamField {
		return
	}
	i := c.addName()
	vs := len(c.buf)
	c.buf = v.MarshalTo(c.buf)
	if !utf8.Valid(c.buf[vs:]) {
		raw := append([]byte(nil), c.buf[vs:]...)
		c.buf = appendValidUTF8(c.buf[:vs], raw)
	}
	c.ents[i].valueEnd = len(c.buf)
}

// addName starts the field named c.name and returns its entry; the caller
// appends the value to c.buf and sets the entry's valueEnd. A repeated name
// reuses its entry, so its last value wins.
func (c *Converter) addName() int {
	if i := findName(c, c.name); i >= 0 {
		c.ents[i].valueStart = len(c.buf)
		return i
	}
	start := len(c.buf)
	c.buf = append(c.buf, c.name...)
	c.ents = append(c.ents, entry{nameStart: start, nameEnd: len(c.buf), valueStart: len(c.buf)})
	n := len(c.ents)
	switch {
	case c.idx != nil:
		c.idx[string(c.name)] = n - 1
	case n >= indexThreshold:
		c.idx = make(map[string]int, 2*n)
		for i, e := range c.ents {
			c.idx[string(c.buf[e.nameStart:e.nameEnd])] = i
		}
	}
	if limit := c.cfg.MaxFieldsPerRecord; limit > 0 && n > limit && c.err == nil {
		c.err = fmt.Errorf("%w: more than %d", ErrTooManyFields, limit)
	}
	return n - 1
}

// findName returns the entry of the named field, or -1.
func findName[T ~string | ~[]byte](c *Converter, name T) int {
	if c.idx != nil {
		if i, ok := c.idx[string(name)]; ok {
			return i
		}
		return -1
	}
	for i := range c.ents {
		e := &c.ents[i]
		if string(c.buf[e.nameStart:e.nameEnd]) == string(name) {
			return i
		}
	}
	return -1
}

func (c *Converter) value(i int) []byte {
	e := &c.ents[i]
	return c.buf[e.valueStart:e.valueEnd]
}

// take gives role to the first of names that is present and still an
// ordinary field, and returns it; -1 if there is none. When skipEmpty is set,
// empty values are dropped on the way, since many loggers write an empty
// time for "unset".
func (c *Converter) take(names []string, r role, skipEmpty bool) int {
	for _, name := range names {
		i := findName(c, name)
		if i < 0 || c.ents[i].role != roleField {
			continue
		}
		if skipEmpty && len(c.value(i)) == 0 {
			c.ents[i].role = roleDropped
			continue
		}
		c.ents[i].role = r
		return i
	}
	return -1
}

// build turns the collected fields into a record: it picks the time, the
// message and the stream labels, and checks that no reserved name is left.
func (c *Converter) build(now time.Time, tenant string) (record.Record, error) {
	r := record.Record{Time: now.UnixNano(), Tenant: tenant}
	if i := c.take(c.cfg.TimeFields, roleTime, true); i >= 0 {
		ts, ok := ParseTime(string(c.value(i)))
		if !ok {
			e := &c.ents[i]
			return record.Record{}, fmt.Errorf("%w: field %q has value %q; accepted: %s",
				ErrBadTime, c.buf[e.nameStart:e.nameEnd], quoteLimit(c.value(i)), TimeFormats)
		}
		r.Time = ts
	}
	c.take(c.cfg.MessageFields, roleMessage, false)
	for _, name := range c.stream {
		if i := findName(c, name); i >= 0 && c.ents[i].role == roleField {
			c.ents[i].role = roleStream
		}
	}
	nfields, nstream := 0, 0
	for i := range c.ents {
		e := &c.ents[i]
		switch e.role {
		case roleField:
			if name := c.buf[e.nameStart:e.nameEnd]; string(name) == record.TimeField || string(name) == record.MessageField {
				return record.Record{}, fmt.Errorf("%w: field %q is reserved; name it in %s or %s to use it",
					ErrFieldName, name, QueryTimeField, QueryMsgField)
			}
			nfields++
		case roleStream:
			nstream++
		}
	}

	// One string holds every name and value, so a record costs one
	// allocation for its text however many fields it has.
	text := string(c.buf)
	if nfields > 0 {
		r.Fields = make([]record.Field, 0, nfields)
	}
	if nstream > 0 {
		r.Stream = make([]record.Field, 0, nstream)
	}
	for i := range c.ents {
		e := &c.ents[i]
		switch e.role {
		case roleField:
			r.Fields = append(r.Fields, record.Field{Name: text[e.nameStart:e.nameEnd], Value: text[e.valueStart:e.valueEnd]})
		case roleMessage:
			r.Message = text[e.valueStart:e.valueEnd]
		}
	}
	for _, name := range c.stream {
		if i := findName(c, name); i >= 0 && c.ents[i].role == roleStream {
			e := &c.ents[i]
			r.Stream = append(r.Stream, record.Field{Name: text[e.nameStart:e.nameEnd], Value: text[e.valueStart:e.valueEnd]})
		}
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

// appendValidUTF8 appends b with every invalid byte replaced by U+FFFD.
func appendValidUTF8(dst, b []byte) []byte {
	if utf8.Valid(b) {
		return append(dst, b...)
	}
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			dst = utf8.AppendRune(dst, utf8.RuneError)
		} else {
			dst = append(dst, b[:size]...)
		}
		b = b[size:]
	}
	return dst
}
