package otlp

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"

	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/record"
)

// Names of the fields the receiver derives from a log record rather than
// from its attributes. They override attributes of the same name, but only
// when the log record sets them.
const (
	FieldLevel          = "level"
	FieldSeverityNumber = "severity_number"
	FieldTraceID        = "trace_id"
	FieldSpanID         = "span_id"
	FieldEventName      = "event_name"
	FieldScopeName      = "scope.name"
	FieldScopeVersion   = "scope.version"
)

// Result is what converting one request gave: the records to ingest and
// the log records rejected, with the first rejection's reason.
type Result struct {
	Records  []record.Record
	Rejected int
	// Reasons counts rejected records by ingest.RejectReason.
	Reasons  map[string]int
	FirstErr error
}

// Converter maps OTLP log records to records. It is safe for concurrent use.
type Converter struct {
	cfg      Config
	exact    map[string]bool
	prefixes []string
}

// NewConverter returns a Converter for cfg.
func NewConverter(cfg Config) *Converter {
	c := &Converter{cfg: cfg, exact: map[string]bool{}}
	for _, f := range cfg.StreamFields {
		if p, ok := strings.CutSuffix(f, "*"); ok {
			c.prefixes = append(c.prefixes, p)
		} else {
			c.exact[f] = true
		}
	}
	return c
}

func (c *Converter) isStream(name string) bool {
	if c.exact[name] {
		return true
	}
	for _, p := range c.prefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// Convert maps every log record of req to a record of tenant; now is the
// time of log records that carry neither a time nor an observed time. Log
// records that cannot be stored (reserved or empty attribute names, too
// many fields) are rejected one by one; the others are returned.
func (c *Converter) Convert(req *collogspb.ExportLogsServiceRequest, tenant string, now time.Time) Result {
	var res Result
	reject := func(err error) {
		if res.Reasons == nil {
			res.Reasons = map[string]int{}
		}
		res.Rejected++
		res.Reasons[ingest.RejectReason(err)]++
		if res.FirstErr == nil {
			res.FirstErr = err
		}
	}
	n := 0
	for _, rl := range req.GetResourceLogs() {
		for _, sl := range rl.GetScopeLogs() {
			n += len(sl.GetLogRecords())
		}
	}
	res.Records = make([]record.Record, 0, n)
	var b builder
	for _, rl := range req.GetResourceLogs() {
		var resAttrs fieldSet
		err := resAttrs.addAttributes(rl.GetResource().GetAttributes())
		var stream, resFields []record.Field
		for _, f := range resAttrs.fields {
			if c.isStream(f.Name) {
				stream = append(stream, f)
			} else {
				resFields = append(resFields, f)
			}
		}
		record.SortStream(stream)
		for _, sl := range rl.GetScopeLogs() {
			if err != nil {
				for range sl.GetLogRecords() {
					reject(fmt.Errorf("resource attributes: %w", err))
				}
				continue
			}
			var scope fieldSet
			scope.fields = append(scope.fields, resFields...)
			if s := sl.GetScope(); s != nil {
				scope.set(FieldScopeName, s.GetName())
				scope.set(FieldScopeVersion, s.GetVersion())
				if err := scope.addAttributes(s.GetAttributes()); err != nil {
					for range sl.GetLogRecords() {
						reject(fmt.Errorf("scope attributes: %w", err))
					}
					continue
				}
			}
			for _, lr := range sl.GetLogRecords() {
				rec, err := b.build(c, lr, &scope, stream, tenant, now)
				if err == nil {
					err = c.cfg.Window.Check(&rec, now)
				}
				if err != nil {
					reject(err)
					continue
				}
				res.Records = append(res.Records, rec)
			}
		}
	}
	return res
}

// builder holds what building a record reuses.
type builder struct {
	fs  fieldSet
	buf []byte
}

func (b *builder) build(c *Converter, lr *logspb.LogRecord, scope *fieldSet, stream []record.Field, tenant string, now time.Time) (record.Record, error) {
	rec := record.Record{Tenant: tenant, Time: now.UnixNano()}
	switch {
	case lr.GetTimeUnixNano() != 0:
		rec.Time = clampTime(lr.GetTimeUnixNano())
	case lr.GetObservedTimeUnixNano() != 0:
		rec.Time = clampTime(lr.GetObservedTimeUnixNano())
	}
	if body := lr.GetBody(); body != nil {
		var ok bool
		b.buf, ok = appendText(b.buf[:0], body)
		if ok {
			rec.Message = string(b.buf)
		}
	}
	b.fs.reset()
	b.fs.fields = append(b.fs.fields, scope.fields...)
	if err := b.fs.addAttributes(lr.GetAttributes()); err != nil {
		return record.Record{}, err
	}
	if l := level(lr.GetSeverityNumber(), lr.GetSeverityText()); l != "" {
		b.fs.set(FieldLevel, l)
		// The source's own text, as every receiver keeps it
		// (ingest.NormalizeLevels).
		if t := lr.GetSeverityText(); t != "" && t != l {
			b.fs.set(ingest.SeverityTextField, t)
		}
	}
	if n := lr.GetSeverityNumber(); n != 0 {
		b.fs.set(FieldSeverityNumber, strconv.Itoa(int(n)))
	}
	if id := lr.GetTraceId(); !isZero(id) {
		b.fs.set(FieldTraceID, hex.EncodeToString(id))
	}
	if id := lr.GetSpanId(); !isZero(id) {
		b.fs.set(FieldSpanID, hex.EncodeToString(id))
	}
	b.fs.set(FieldEventName, lr.GetEventName())

	nfields := 0
	for _, f := range b.fs.fields {
		if !hasLabel(stream, f.Name) {
			nfields++
		}
	}
	if limit := c.cfg.MaxFieldsPerRecord; limit > 0 && nfields+len(stream) > limit {
		return record.Record{}, fmt.Errorf("%w: more than %d", ingest.ErrTooManyFields, limit)
	}
	if len(stream) > 0 {
		rec.Stream = append([]record.Field(nil), stream...)
	}
	if nfields > 0 {
		rec.Fields = make([]record.Field, 0, nfields)
		for _, f := range b.fs.fields {
			// A stream label is the record's identity: an attribute of
			// the same name cannot also be a field.
			if !hasLabel(stream, f.Name) {
				rec.Fields = append(rec.Fields, f)
			}
		}
	}
	return rec, nil
}

// clampTime turns unsigned nanoseconds into the record's signed ones; times
// beyond 2262 are clamped rather than wrapped into the past.
func clampTime(ns uint64) int64 {
	const maxNs = 1<<63 - 1
	if ns > maxNs {
		return maxNs
	}
	return int64(ns)
}

func isZero(id []byte) bool {
	for _, c := range id {
		if c != 0 {
			return false
		}
	}
	return true
}

func hasLabel(stream []record.Field, name string) bool {
	for _, f := range stream {
		if f.Name == name {
			return true
		}
	}
	return false
}

// errReserved is the reason for an attribute named like a reserved field.
var errReserved = errors.New("reserved field name")

// fieldSet collects fields with unique names; setting a name again replaces
// its value in place.
type fieldSet struct {
	fields []record.Field
	idx    map[string]int
	name   []byte
	buf    []byte
}

// indexThreshold is the field count from which names are looked up in a map.
const indexThreshold = 32

func (s *fieldSet) reset() {
	s.fields = s.fields[:0]
	s.idx = nil
}

func (s *fieldSet) find(name string) int {
	if s.idx != nil {
		if i, ok := s.idx[name]; ok {
			return i
		}
		return -1
	}
	for i := range s.fields {
		if s.fields[i].Name == name {
			return i
		}
	}
	return -1
}

// set sets name to value; an empty value sets nothing.
func (s *fieldSet) set(name, value string) {
	if value == "" {
		return
	}
	if i := s.find(name); i >= 0 {
		s.fields[i].Value = value
		return
	}
	s.fields = append(s.fields, record.Field{Name: name, Value: value})
	switch n := len(s.fields); {
	case s.idx != nil:
		s.idx[name] = n - 1
	case n >= indexThreshold:
		s.idx = make(map[string]int, 2*n)
		for i, f := range s.fields {
			s.idx[f.Name] = i
		}
	}
}

// addAttributes adds attrs, flattening kvlist values into dotted names.
func (s *fieldSet) addAttributes(attrs []*commonpb.KeyValue) error {
	s.name = s.name[:0]
	return s.addKVs(attrs, 0)
}

func (s *fieldSet) addKVs(attrs []*commonpb.KeyValue, prefix int) error {
	for _, kv := range attrs {
		if kv.GetKey() == "" {
			return fmt.Errorf("%w: empty attribute key under %q", ingest.ErrFieldName, s.name[:prefix])
		}
		s.name = s.name[:prefix]
		if prefix > 0 {
			s.name = append(s.name, '.')
		}
		s.name = append(s.name, kv.GetKey()...)
		if kvl, ok := kv.GetValue().GetValue().(*commonpb.AnyValue_KvlistValue); ok {
			if err := s.addKVs(kvl.KvlistValue.GetValues(), len(s.name)); err != nil {
				return err
			}
			continue
		}
		var ok bool
		s.buf, ok = appendText(s.buf[:0], kv.GetValue())
		if !ok {
			continue
		}
		switch name := string(s.name); name {
		case record.TimeField, record.MessageField, record.StreamField:
			return fmt.Errorf("%w: attribute %q: %w", ingest.ErrFieldName, name, errReserved)
		default:
			s.set(name, string(s.buf))
		}
	}
	return nil
}
