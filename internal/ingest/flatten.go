package ingest

import (
	"fmt"
	"unicode/utf8"
)

// Flatten parses js, which must hold one JSON object, into fields by the
// Converter's rules (dotted names for nested objects, arrays as their JSON
// text, numbers as their literal text, nulls skipped, invalid UTF-8 as
// U+FFFD), every name under prefix ("" for none). It is the processing
// pipeline's parse_json: the fields come back in the returned builder,
// valid until the Converter's next call, and nothing is made a time,
// message or stream label.
func (c *Converter) Flatten(js []byte, prefix string) (*FieldBuilder, error) {
	c.b.Reset()
	v, err := c.p.ParseBytes(js)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrBadJSON, err)
	}
	c.valid = utf8.Valid(js)
	o, err := v.Object()
	if err != nil {
		return nil, fmt.Errorf("%w: got %s", ErrNotObject, v.Type())
	}
	c.b.Name = append(c.b.Name[:0], prefix...)
	c.flatten(o, len(prefix))
	if c.b.Err != nil {
		return nil, c.b.Err
	}
	return &c.b, nil
}
