package process

import (
	"fmt"
	"sync"

	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/record"
)

// ParseOptions are the options every parser (parse_json, parse_logfmt,
// parse_regex, grok) shares: what it reads and where what it parses
// goes. Each parser's config embeds them with its own defaults; they are
// exported only so that the docs generator can read them.
type ParseOptions struct {
	Field         string   `yaml:"field" doc:"The field to parse; _msg is the message."`
	Prefix        string   `yaml:"prefix" doc:"Put the parsed fields under this name, dotted (prefix.name); empty: at the top."`
	MessageFields []string `yaml:"message_fields" doc:"The first of these parsed fields present becomes the message (_msg) instead of a field. When none is present and field is _msg, the message stays as it was."`
	TimeFields    []string `yaml:"time_fields" doc:"The first of these parsed fields present becomes the record's time when it parses as RFC 3339, 2006-01-02 15:04:05[.frac] (UTC) or a Unix time in s, ms, µs or ns (else it stays a field and the step counts an error); use the timestamp processor for other layouts."`
	KeepField     bool     `yaml:"keep_field" doc:"Keep the parsed field (other than _msg) after a successful parse; by default it is removed."`
}

func (o *ParseOptions) validate() error {
	if err := checkReadable(o.Field); err != nil {
		return fmt.Errorf("field: %w", err)
	}
	return nil
}

// checkReadable refuses names a step cannot take its input from.
func checkReadable(name string) error {
	switch name {
	case "":
		return fmt.Errorf("empty field name")
	case record.TimeField, record.StreamField, TenantField:
		return fmt.Errorf("%s cannot be parsed; parse _msg or a field", name)
	}
	return nil
}

// source returns the value to parse.
func (o *ParseOptions) source(r *record.Record) (string, bool) {
	return r.Get(o.Field)
}

// apply puts parsed fields (names already under the prefix) into r. The
// source field goes first (unless kept), so that a parsed field of the
// same name survives.
func (o *ParseOptions) apply(r *record.Record, fields []record.Field) Result {
	msg, tim := -1, -1
	for _, name := range o.MessageFields {
		if msg = indexOf(fields, prefixed(o.Prefix, name)); msg >= 0 {
			break
		}
	}
	for _, name := range o.TimeFields {
		if tim = indexOf(fields, prefixed(o.Prefix, name)); tim >= 0 {
			break
		}
	}
	if o.Field != record.MessageField && !o.KeepField {
		deleteField(r, o.Field)
	}
	res := Keep
	for i, f := range fields {
		switch i {
		case msg:
			r.Message = f.Value
			continue
		case tim:
			if ts, ok := ingest.ParseTime(f.Value); ok {
				r.Time = ts
				continue
			}
			res = Fail
		}
		setField(r, f.Name, f.Value)
	}
	return res
}

func indexOf(fields []record.Field, name string) int {
	for i := range fields {
		if fields[i].Name == name {
			return i
		}
	}
	return -1
}

// scratch lends reusable slices of fields to a parser's concurrent calls.
type scratch struct{ pool sync.Pool }

func (s *scratch) get() *[]record.Field {
	if p, ok := s.pool.Get().(*[]record.Field); ok {
		return p
	}
	return new([]record.Field)
}

// put takes the slice back, keeping no references to the record's text.
func (s *scratch) put(p *[]record.Field, fields []record.Field) {
	clear(fields)
	*p = fields[:0]
	s.pool.Put(p)
}
