package record

import (
	"sort"
	"strings"
	"time"
)

// Names of the fields every record has. They can be used in queries like any
// other field name.
const (
	TimeField    = "_time"
	MessageField = "_msg"
	StreamField  = "_stream"
	// TenantField is the tenant in query results. It is never a field of
	// a record's own: receivers refuse it, since the tenant comes from the
	// request's key, never from its body.
	TenantField = "_tenant"
)

// Field is one name/value pair. Values are strings; numeric comparisons parse
// them on demand, as VictoriaLogs does, so that a field may hold numbers in one
// record and words in another without a mapping conflict.
type Field struct {
	Name  string
	Value string
}

// Record is one log line.
type Record struct {
	// Time is the event time in Unix nanoseconds (UTC).
	Time int64
	// Tenant isolates data of different owners; "" is the default tenant.
	Tenant string
	// Stream holds the few labels that identify the source (service, host,
	// container, …), sorted by name, names unique.
	Stream []Field
	// Message is the log line's text.
	Message string
	// Fields holds every other field; names are unique and never collide
	// with Stream's or the reserved names above.
	Fields []Field
}

// Get returns the value of the named field: a reserved name, a stream label
// or an ordinary field.
func (r *Record) Get(name string) (string, bool) {
	switch name {
	case MessageField:
		return r.Message, true
	case TimeField:
		return time.Unix(0, r.Time).UTC().Format(time.RFC3339Nano), true
	case StreamField:
		return r.StreamString(), true
	}
	for i := range r.Stream {
		if r.Stream[i].Name == name {
			return r.Stream[i].Value, true
		}
	}
	for i := range r.Fields {
		if r.Fields[i].Name == name {
			return r.Fields[i].Value, true
		}
	}
	return "", false
}

// StreamString renders the stream labels as {name="value",…}, the stream's
// identity in query results.
func (r *Record) StreamString() string {
	return StreamString(r.Stream)
}

// StreamString renders labels (sorted by name) as {name="value",…}.
func StreamString(labels []Field) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, f := range labels {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(f.Name)
		b.WriteString(`="`)
		for _, c := range f.Value {
			switch c {
			case '"', '\\':
				b.WriteByte('\\')
				b.WriteRune(c)
			case '\n':
				b.WriteString(`\n`)
			default:
				b.WriteRune(c)
			}
		}
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

// SortStream sorts labels by name; receivers call it after building Stream.
func SortStream(labels []Field) {
	sort.Slice(labels, func(i, j int) bool { return labels[i].Name < labels[j].Name })
}

// Size approximates the record's size in bytes, for limits and metrics.
func (r *Record) Size() int {
	n := 8 + len(r.Tenant) + len(r.Message)
	for _, f := range r.Stream {
		n += len(f.Name) + len(f.Value)
	}
	for _, f := range r.Fields {
		n += len(f.Name) + len(f.Value)
	}
	return n
}

// Clone returns a deep copy that shares no slices with r.
func (r *Record) Clone() Record {
	c := *r
	c.Stream = append([]Field(nil), r.Stream...)
	c.Fields = append([]Field(nil), r.Fields...)
	return c
}
