package forward

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

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
	// streamPrefix starts the names of the labels a record's _stream map
	// holds.
	streamPrefix = record.StreamField + "."
)

// converter turns one msgpack map into a record: nested maps are flattened
// with dotted names, arrays kept as JSON text, numbers as their decimal text,
// booleans as "true"/"false"; nils are skipped; a repeated name keeps its
// last value. It reuses its buffers and is not safe for concurrent use.
type converter struct {
	// b.Err is the first record-level error; parsing goes on to find the
	// record's end.
	b ingest.FieldBuilder
}

// Roles of a field (ingest.FieldEntry.Role).
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
	c.b.Reset()
	if err := c.flatten(r, h.n, 0, 1); err != nil {
		return record.Record{}, err
	}
	if c.b.Err != nil {
		return record.Record{}, c.b.Err
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
		c.b.Name = c.b.Name[:prefix]
		if prefix > 0 {
			c.b.Name = append(c.b.Name, '.')
		}
		switch kh.kind {
		case kStr, kBin:
			k := r.bytes(kh)
			if len(k) == 0 && c.b.Err == nil {
				c.b.Err = fmt.Errorf("%w: empty field name under %q", ingest.ErrFieldName, c.b.Name[:prefix])
			}
			c.b.Name = ingest.AppendValidUTF8(c.b.Name, k)
		case kInt:
			c.b.Name = strconv.AppendInt(c.b.Name, kh.i, 10)
		case kUint:
			c.b.Name = strconv.AppendUint(c.b.Name, kh.u, 10)
		default:
			return fmt.Errorf("%w: record key is a %s", errMalformed, kh.kind)
		}
		vh, err := r.next()
		if err != nil {
			return fmt.Errorf("%w: value of %q: %w", errMalformed, c.b.Name, err)
		}
		switch vh.kind {
		case kNil:
		case kMap:
			if err := c.flatten(r, vh.n, len(c.b.Name), depth+1); err != nil {
				return err
			}
		default:
			i := c.b.AddName()
			start := len(c.b.Buf)
			if c.b.Buf, err = appendValue(c.b.Buf, vh, r, depth); err != nil {
				return err
			}
			if i >= 0 {
				c.b.EndValue(i)
			} else {
				c.b.Buf = c.b.Buf[:start] // the record is rejected: keep only its end
			}
		}
	}
	return nil
}

// build picks the message and the stream labels and makes the record.
func (c *converter) build(tag []byte, ts int64) (record.Record, error) {
	for _, name := range messageFields {
		if i := ingest.FindField(&c.b, name); i >= 0 {
			c.b.Ents[i].Role = roleMessage
			break
		}
	}
	for _, name := range []string{labelContainerName, labelContainerID} {
		if i := ingest.FindField(&c.b, name); i >= 0 && c.b.Ents[i].Role == roleField {
			c.b.Ents[i].Role = roleStream
		}
	}
	// A map under _stream names stream labels (sluice agent sends a
	// container's namespace, pod and container so); flattening made
	// them _stream.NAME.
	nlabels := 1
	for i := range c.b.Ents {
		name := c.b.FieldName(i)
		if label, ok := strings.CutPrefix(string(name), streamPrefix); ok && c.b.Ents[i].Role == roleField {
			if label == labelTag || label == "" || strings.ContainsRune(label, '.') {
				return record.Record{}, fmt.Errorf("%w: stream label %q: %s is the event's tag, and a label has a plain name", ingest.ErrFieldName, label, labelTag)
			}
			if j := ingest.FindField(&c.b, label); j >= 0 && c.b.Ents[j].Role == roleStream {
				return record.Record{}, fmt.Errorf("%w: stream label %q is given twice (as %s and under %s)", ingest.ErrFieldName, label, label, record.StreamField)
			}
			c.b.Ents[i].Role = roleStream
		}
		if c.b.Ents[i].Role == roleStream {
			nlabels++
		}
	}
	// The record's text (and the tag) go into one string, so a record costs
	// one allocation for its text however many fields it has.
	tagStart := len(c.b.Buf)
	c.b.Buf = ingest.AppendValidUTF8(c.b.Buf, tag)
	tagEnd := len(c.b.Buf)
	renamedStart := -1
	if i := ingest.FindField(&c.b, labelTag); i >= 0 {
		if string(c.b.Value(i)) == string(c.b.Buf[tagStart:tagEnd]) {
			c.b.Ents[i].Role = roleDropped
		} else {
			renamedStart = len(c.b.Buf)
			c.b.Buf = append(c.b.Buf, renamedTag...)
			if ingest.FindField(&c.b, renamedTag) >= 0 {
				return record.Record{}, fmt.Errorf("%w: both %q (differing from the event's tag) and %q are set", ingest.ErrFieldName, labelTag, renamedTag)
			}
		}
	}
	nfields := 0
	for i := range c.b.Ents {
		if c.b.Ents[i].Role != roleField {
			continue
		}
		switch name := c.b.FieldName(i); string(name) {
		case record.TimeField, record.MessageField:
			return record.Record{}, fmt.Errorf("%w: field %q is reserved", ingest.ErrFieldName, name)
		case record.StreamField:
			// The stream is derived from the labels; an exported _stream
			// carries nothing new.
			c.b.Ents[i].Role = roleDropped
		default:
			nfields++
		}
	}
	text := string(c.b.Buf)
	rec := record.Record{Time: ts, Stream: make([]record.Field, 0, nlabels)}
	rec.Stream = append(rec.Stream, record.Field{Name: labelTag, Value: text[tagStart:tagEnd]})
	if nfields > 0 {
		rec.Fields = make([]record.Field, 0, nfields)
	}
	for _, e := range c.b.Ents {
		switch e.Role {
		case roleMessage:
			rec.Message = text[e.ValueStart:e.ValueEnd]
		case roleStream:
			v := text[e.ValueStart:e.ValueEnd]
			name := strings.TrimPrefix(text[e.NameStart:e.NameEnd], streamPrefix)
			if name == labelContainerName {
				v = strings.TrimPrefix(v, "/")
			}
			rec.Stream = append(rec.Stream, record.Field{Name: name, Value: v})
		case roleField:
			name := text[e.NameStart:e.NameEnd]
			if name == labelTag && renamedStart >= 0 {
				name = text[renamedStart : renamedStart+len(renamedTag)]
			}
			rec.Fields = append(rec.Fields, record.Field{Name: name, Value: text[e.ValueStart:e.ValueEnd]})
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
		return ingest.AppendValidUTF8(dst, r.bytes(h)), nil
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
