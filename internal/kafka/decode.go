package kafka

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/valyala/fastjson"

	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/record"
)

var errRecord = errors.New("bad sluice record")

// Decoder turns consumed messages into records. It reuses buffers and is
// not safe for concurrent use.
type Decoder struct {
	conv *ingest.Converter
	cfg  ingest.RecordConfig
	p    fastjson.Parser
}

// NewDecoder returns a decoder that converts messages not written by a
// gateway with cfg (the jsonline field mapping).
func NewDecoder(cfg ingest.RecordConfig) *Decoder {
	return &Decoder{conv: ingest.NewConverter(cfg), cfg: cfg}
}

// Decode returns the record a message holds. A gateway's message is rebuilt
// exactly; any other JSON object is converted like a jsonline line, with
// the message's timestamp as the time when it names none.
func (d *Decoder) Decode(m *kgo.Record) (record.Record, error) {
	if max := d.cfg.MaxLineBytes; max > 0 && len(m.Value) > max {
		return record.Record{}, fmt.Errorf("%w: message of %d bytes is larger than max_line_bytes (%d)", ingest.ErrLineTooLong, len(m.Value), max)
	}
	for _, h := range m.Headers {
		if h.Key == FormatHeader && string(h.Value) == FormatRecord {
			return d.decodeRecord(m.Value)
		}
	}
	ts := m.Timestamp
	if ts.IsZero() {
		ts = time.Now()
	}
	return d.conv.Convert(m.Value, ts, "", nil)
}

// decodeRecord parses record.AppendJSON's shape.
func (d *Decoder) decodeRecord(js []byte) (record.Record, error) {
	v, err := d.p.ParseBytes(js)
	if err != nil {
		return record.Record{}, fmt.Errorf("%w: %w: %s", errRecord, ingest.ErrBadJSON, err)
	}
	o, err := v.Object()
	if err != nil {
		return record.Record{}, fmt.Errorf("%w: %w: got %s", errRecord, ingest.ErrNotObject, v.Type())
	}
	var r record.Record
	var haveTime, haveStream bool
	var firstErr error
	o.Visit(func(k []byte, v *fastjson.Value) {
		if firstErr != nil {
			return
		}
		var val string
		if s, err := v.StringBytes(); err == nil {
			val = validUTF8(s)
		} else {
			val = validUTF8(v.MarshalTo(nil))
		}
		switch string(k) {
		case record.TimeField:
			t, ok := ingest.ParseTime(val)
			if !ok {
				firstErr = fmt.Errorf("%w: _time %q is not a time", errRecord, limit(val))
				return
			}
			r.Time, haveTime = t, true
		case record.MessageField:
			r.Message = val
		case "_tenant":
			r.Tenant = val
		case record.StreamField:
			labels, err := parseStream(val)
			if err != nil {
				firstErr = fmt.Errorf("%w: %w", errRecord, err)
				return
			}
			r.Stream, haveStream = labels, true
		default:
			if len(k) == 0 {
				firstErr = fmt.Errorf("%w: %w: empty field name", errRecord, ingest.ErrFieldName)
				return
			}
			r.Fields = append(r.Fields, record.Field{Name: validUTF8(k), Value: val})
		}
	})
	if firstErr != nil {
		return record.Record{}, firstErr
	}
	if !haveTime || !haveStream {
		return record.Record{}, fmt.Errorf("%w: _time and _stream are required", errRecord)
	}
	record.SortStream(r.Stream)
	// AppendJSON writes each label both in _stream and as a field of its
	// own; the label wins, so the field copy is dropped.
	if len(r.Stream) > 0 {
		kept := r.Fields[:0]
		for _, f := range r.Fields {
			if !isLabel(r.Stream, f.Name) {
				kept = append(kept, f)
			}
		}
		r.Fields = kept
	}
	if len(r.Fields) == 0 {
		r.Fields = nil
	}
	if max := d.cfg.MaxFieldsPerRecord; max > 0 && len(r.Fields)+len(r.Stream) > max {
		return record.Record{}, fmt.Errorf("%w: more than %d", ingest.ErrTooManyFields, max)
	}
	return r, nil
}

func isLabel(labels []record.Field, name string) bool {
	for _, l := range labels {
		if l.Name == name {
			return true
		}
	}
	return false
}

func validUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}
