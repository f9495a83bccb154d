package forward

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/record"
)

// Names with a meaning in Fluentd records. The message is the first of
// messageFields present; Docker's fluentd log driver writes "log" and the
// container's identity, which become stream labels.
var messageFields = []string{"message", "log", "msg"}

const (
	labelTag           = "tag"
	labelContainerName = "container_name"
	labelContainerID   = "container_id"
	// renamedTag holds a record's own "tag" field when it differs from the
	// event's tag, which is the stream label of that name.
	renamedTag = "record.tag"
)

// indexThreshold is the field count from which names are looked up in a map.
const indexThreshold = 32

// converter turns one msgpack map into a record: nested maps are flattened
// with dotted names, arrays kept as JSON text, numbers as their decimal text,
// booleans as "true"/"false"; nils are skipped; a repeated name keeps its
// last value. It reuses its buffers and is not safe for concurrent use.
type converter struct {
	maxFields int
	buf       []byte // names and values of the record being built
	name      []byte
	ents      []ent
	idx       map[string]int
	err       error // the first record-level error; parsing goes on to find the record's end
}

type ent struct {
	nameStart, nameEnd, valStart, valEnd int
	role                                 uint8
}

const (
	roleField uint8 = iota
	roleMessage
	roleStream
	roleDropped
)

// convert reads the record map whose header h was just read from r. A
// returned error of the record alone (too many fields, a reserved name)
// wraps an ingest error, and r is then past the record; any other error
// means the input is malformed.
func (c *converter) convert(tag []byte, ts int64, h head, r *reader) (record.Record, error) {
	if h.kind != kMap {
		return record.Record{}, fmt.Errorf("%w: record is a %s, not a map", errMalformed, h.kind)
	}
	c.buf, c.name, c.ents, c.idx, c.err = c.buf[:0], c.name[:0], c.ents[:0], nil, nil
	if err := c.flatten(r, h.n, 0, 1); err != nil {
		return record.Record{}, err
	}
	if c.err != nil {
		return record.Record{}, c.err
	}
	return c.build(tag, ts)
}

func (c *converter) flatten(r *reader, pairs, prefix, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("%w: %w", errMalformed, errTooDeep)
	}
	for range pairs {
		kh, err := r.next()
		if err != nil {
			return fmt.Errorf("%w: record key: %w", errMalformed, err)
		}
		c.name = c.name[:prefix]
		if prefix > 0 {
			c.name = append(c.name, '.')
		}
		switch kh.kind {
		case kStr, kBin:
			k := r.bytes(kh)
			if len(k) == 0 && c.err == nil {
				c.err = fmt.Errorf("%w: empty field name under %q", ingest.ErrFieldName, c.name[:prefix])
			}
			c.name = appendValidUTF8(c.name, k)
		case kInt:
			c.name = strconv.AppendInt(c.name, kh.i, 10)
		case kUint:
			c.name = strconv.AppendUint(c.name, kh.u, 10)
		default:
			return fmt.Errorf("%w: record key is a %s", errMalformed, kh.kind)
		}
		vh, err := r.next()
		if err != nil {
			return fmt.Errorf("%w: value of %q: %w", errMalformed, c.name, err)
		}
		switch vh.kind {
		case kNil:
		case kMap:
			if err := c.flatten(r, vh.n, len(c.name), depth+1); err != nil {
				return err
			}
		default:
			i := c.addName()
			start := len(c.buf)
			if c.buf, err = appendValue(c.buf, vh, r, depth); err != nil {
				return err
			}
			if i >= 0 {
				c.ents[i].valEnd = len(c.buf)
			} else {
				c.buf = c.buf[:start] // the record is rejected: keep only its end
			}
		}
	}
	return nil
}

// addName starts the field named c.name and returns its entry, or -1 when
// the record is already rejected (its value is still appended, and ignored).
func (c *converter) addName() int {
	if c.err != nil {
		return -1
	}
	if i := c.find(string(c.name)); i >= 0 {
		c.ents[i].valStart = len(c.buf)
		return i
	}
	start := len(c.buf)
	c.buf = append(c.buf, c.name...)
	c.ents = append(c.ents, ent{nameStart: start, nameEnd: len(c.buf), valStart: len(c.buf)})
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
	if c.maxFields > 0 && n > c.maxFields {
		c.err = fmt.Errorf("%w: more than %d", ingest.ErrTooManyFields, c.maxFields)
	}
	return n - 1
}

func (c *converter) find(name string) int {
	if c.idx != nil {
		if i, ok := c.idx[name]; ok {
			return i
		}
		return -1
	}
	for i, e := range c.ents {
		if string(c.buf[e.nameStart:e.nameEnd]) == name {
			return i
		}
	}
	return -1
}

func (c *converter) nameOf(i int) []byte  { return c.buf[c.ents[i].nameStart:c.ents[i].nameEnd] }
func (c *converter) valueOf(i int) []byte { return c.buf[c.ents[i].valStart:c.ents[i].valEnd] }

// build picks the message and the stream labels and makes the record.
func (c *converter) build(tag []byte, ts int64) (record.Record, error) {
	for _, name := range messageFields {
		if i := c.find(name); i >= 0 {
			c.ents[i].role = roleMessage
			break
		}
	}
	for _, name := range []string{labelContainerName, labelContainerID} {
		if i := c.find(name); i >= 0 && c.ents[i].role == roleField {
			c.ents[i].role = roleStream
		}
	}
	// The record's text (and the tag) go into one string, so a record costs
	// one allocation for its text however many fields it has.
	tagStart := len(c.buf)
	c.buf = appendValidUTF8(c.buf, tag)
	tagEnd := len(c.buf)
	renamedStart := -1
	if i := c.find(labelTag); i >= 0 {
		if string(c.valueOf(i)) == string(c.buf[tagStart:tagEnd]) {
			c.ents[i].role = roleDropped
		} else {
			renamedStart = len(c.buf)
			c.buf = append(c.buf, renamedTag...)
			if c.find(renamedTag) >= 0 {
				return record.Record{}, fmt.Errorf("%w: both %q (differing from the event's tag) and %q are set", ingest.ErrFieldName, labelTag, renamedTag)
			}
		}
	}
	nfields := 0
	for i := range c.ents {
		if c.ents[i].role != roleField {
			continue
		}
		switch name := c.nameOf(i); string(name) {
		case record.TimeField, record.MessageField:
			return record.Record{}, fmt.Errorf("%w: field %q is reserved", ingest.ErrFieldName, name)
		case record.StreamField:
			// The stream is derived from the labels; an exported _stream
			// carries nothing new.
			c.ents[i].role = roleDropped
		default:
			nfields++
		}
	}
	text := string(c.buf)
	rec := record.Record{Time: ts, Stream: make([]record.Field, 0, 3)}
	rec.Stream = append(rec.Stream, record.Field{Name: labelTag, Value: text[tagStart:tagEnd]})
	if nfields > 0 {
		rec.Fields = make([]record.Field, 0, nfields)
	}
	for i, e := range c.ents {
		switch e.role {
		case roleMessage:
			rec.Message = text[e.valStart:e.valEnd]
		case roleStream:
			v := text[e.valStart:e.valEnd]
			if string(c.nameOf(i)) == labelContainerName {
				v = strings.TrimPrefix(v, "/")
			}
			rec.Stream = append(rec.Stream, record.Field{Name: text[e.nameStart:e.nameEnd], Value: v})
		case roleField:
			name := text[e.nameStart:e.nameEnd]
			if name == labelTag && renamedStart >= 0 {
				name = text[renamedStart : renamedStart+len(renamedTag)]
			}
			rec.Fields = append(rec.Fields, record.Field{Name: name, Value: text[e.valStart:e.valEnd]})
		}
	}
	slices.SortFunc(rec.Stream, func(a, b record.Field) int { return strings.Compare(a.Name, b.Name) })
	return rec, nil
}

// appendValue appends the text of a scalar or array value whose header h
// was just read.
func appendValue(dst []byte, h head, r *reader, depth int) ([]byte, error) {
	switch h.kind {
	case kBool:
		return strconv.AppendBool(dst, h.b), nil
	case kInt:
		return strconv.AppendInt(dst, h.i, 10), nil
	case kUint:
		return strconv.AppendUint(dst, h.u, 10), nil
	case kFloat:
		return strconv.AppendFloat(dst, h.f, 'g', -1, 64), nil
	case kStr, kBin:
		return appendValidUTF8(dst, r.bytes(h)), nil
	case kExt:
		return appendExt(dst, h, r), nil
	case kArray, kMap:
		return appendJSON(dst, h, r, depth+1)
	}
	return dst, nil // nil: nothing
}

// appendExt renders an EventTime as RFC 3339 and any other extension as
// its type and hex bytes.
func appendExt(dst []byte, h head, r *reader) []byte {
	b := r.bytes(h)
	if h.extType == 0 && len(b) == 8 {
		r2 := reader{p: append([]byte{0xd7, 0}, b...)}
		if ts, err := r2.eventTime(); err == nil {
			return time.Unix(0, ts).UTC().AppendFormat(dst, time.RFC3339Nano)
		}
	}
	return fmt.Appendf(dst, "ext%d:%x", h.extType, b)
}

// appendJSON appends an array or map (and what it holds) as JSON text.
func appendJSON(dst []byte, h head, r *reader, depth int) ([]byte, error) {
	if depth > maxDepth {
		return dst, fmt.Errorf("%w: %w", errMalformed, errTooDeep)
	}
	switch h.kind {
	case kNil:
		return append(dst, "null"...), nil
	case kStr, kBin, kExt:
		var s []byte
		if h.kind == kExt {
			s = appendExt(nil, h, r)
		} else {
			s = r.bytes(h)
		}
		q, _ := json.Marshal(strings.ToValidUTF8(string(s), "\uFFFD"))
		return append(dst, q...), nil
	case kFloat:
		if !validJSONFloat(h.f) {
			return append(dst, "null"...), nil
		}
	case kArray, kMap:
		open, close := byte('['), byte(']')
		if h.kind == kMap {
			open, close = '{', '}'
		}
		dst = append(dst, open)
		for i := range h.items() {
			if i > 0 {
				if h.kind == kMap && i%2 == 1 {
					dst = append(dst, ':')
				} else {
					dst = append(dst, ',')
				}
			}
			c, err := r.next()
			if err != nil {
				return dst, fmt.Errorf("%w: %w", errMalformed, err)
			}
			if h.kind == kMap && i%2 == 0 && c.kind != kStr && c.kind != kBin {
				// JSON keys are strings: quote the key's text.
				k, err := appendValue(nil, c, r, depth)
				if err != nil {
					return dst, err
				}
				q, _ := json.Marshal(string(k))
				dst = append(dst, q...)
				continue
			}
			if dst, err = appendJSON(dst, c, r, depth+1); err != nil {
				return dst, err
			}
		}
		return append(dst, close), nil
	}
	return appendValue(dst, h, r, depth)
}

func validJSONFloat(f float64) bool {
	return f == f && f-f == 0 // neither NaN nor ±Inf
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
