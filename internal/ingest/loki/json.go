package loki

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/valyala/fastjson"

	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/record"
)

// ErrJSON is the reason for a JSON body that is not a push request.
var ErrJSON = errors.New("invalid JSON push request")

// DecodeJSON decodes a JSON push request,
//
//	{"streams":[{"stream":{"label":"value"},"values":[["<unix ns>","line"],["<unix ns>","line",{"meta":"value"}]]}]}
//
// into records of tenant, as DecodeProto does. The timestamp is a string of
// Unix nanoseconds (a JSON integer is accepted too); "0" means now.
func DecodeJSON(data []byte, tenant string, now time.Time, maxFields int) (Push, error) {
	var p fastjson.Parser
	v, err := p.ParseBytes(data)
	if err != nil {
		return Push{}, fmt.Errorf("%w: %w", ErrJSON, err)
	}
	if v.Type() != fastjson.TypeObject {
		return Push{}, fmt.Errorf("%w: want an object, got %s", ErrJSON, v.Type())
	}
	b := newBuilder(tenant, now, maxFields)
	streams := v.Get("streams")
	if streams == nil {
		return b.push, nil
	}
	ss, err := streams.Array()
	if err != nil {
		return Push{}, fmt.Errorf("%w: streams: want an array, got %s", ErrJSON, streams.Type())
	}
	for i, s := range ss {
		if err := decodeJSONStream(s, b); err != nil {
			return Push{}, fmt.Errorf("%w: streams[%d]: %w", ErrJSON, i, err)
		}
	}
	return b.push, nil
}

func decodeJSONStream(s *fastjson.Value, b *builder) error {
	if s.Type() != fastjson.TypeObject {
		return fmt.Errorf("want an object, got %s", s.Type())
	}
	var labels []record.Field
	if st := s.Get("stream"); st != nil {
		var err error
		labels, err = stringMap(st)
		if err != nil {
			return fmt.Errorf("stream: %w", err)
		}
		record.SortStream(labels)
		var labelErr error
		for i := 1; i < len(labels); i++ {
			// A JSON object may repeat a key; a label set may not.
			if labels[i].Name == labels[i-1].Name {
				labelErr = fmt.Errorf("%w: label %q appears twice", ErrLabels, labels[i].Name)
			}
		}
		for _, l := range labels {
			if !validLabelName(l.Name) && labelErr == nil {
				labelErr = fmt.Errorf("%w: label name %q does not match [a-zA-Z_][a-zA-Z0-9_]*", ErrLabels, l.Name)
			}
		}
		b.stream(labels, labelErr)
	} else {
		b.stream(nil, nil)
	}
	values := s.Get("values")
	if values == nil {
		return nil
	}
	vs, err := values.Array()
	if err != nil {
		return fmt.Errorf("values: want an array, got %s", values.Type())
	}
	for j, e := range vs {
		if err := decodeJSONEntry(e, b); err != nil {
			return fmt.Errorf("values[%d]: %w", j, err)
		}
	}
	return nil
}

func decodeJSONEntry(e *fastjson.Value, b *builder) error {
	a, err := e.Array()
	if err != nil || len(a) < 2 || len(a) > 3 {
		return fmt.Errorf(`want ["<unix ns>", "line"] or ["<unix ns>", "line", {metadata}]`)
	}
	line, err := a[1].StringBytes()
	if err != nil {
		return fmt.Errorf("line: want a string, got %s", a[1].Type())
	}
	var meta []record.Field
	if len(a) == 3 {
		if meta, err = stringMap(a[2]); err != nil {
			return fmt.Errorf("structured metadata: %w", err)
		}
	}
	ts, tsErr := jsonTimestamp(a[0])
	b.entry(ts, string(line), meta, tsErr)
	return nil
}

// jsonTimestamp reads Unix nanoseconds from a string or an integer; an
// unreadable one rejects only its entry.
func jsonTimestamp(v *fastjson.Value) (int64, error) {
	var text string
	switch v.Type() {
	case fastjson.TypeString:
		s, _ := v.StringBytes()
		text = string(s)
	case fastjson.TypeNumber:
		text = v.String()
	default:
		return 0, fmt.Errorf("%w: timestamp: want a string of Unix nanoseconds, got %s", ingest.ErrBadTime, v.Type())
	}
	ts, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: timestamp %q: want Unix nanoseconds", ingest.ErrBadTime, quoteLimit(text))
	}
	return ts, nil
}

// stringMap reads an object of string values.
func stringMap(v *fastjson.Value) ([]record.Field, error) {
	o, err := v.Object()
	if err != nil {
		return nil, fmt.Errorf("want an object of strings, got %s", v.Type())
	}
	var fs []record.Field
	o.Visit(func(k []byte, x *fastjson.Value) {
		if err != nil {
			return
		}
		s, serr := x.StringBytes()
		if serr != nil {
			err = fmt.Errorf("%q: want a string, got %s", k, x.Type())
			return
		}
		fs = append(fs, record.Field{Name: string(k), Value: string(s)})
	})
	return fs, err
}

func validLabelName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
