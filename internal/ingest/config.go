package ingest

import (
	"net/url"
	"strings"
)

// Query parameters that override a RecordConfig per request. The names are
// VictoriaLogs' so that clients configured for it work unchanged.
const (
	QueryTimeField    = "_time_field"
	QueryMsgField     = "_msg_field"
	QueryStreamFields = "_stream_fields"
)

// RecordConfig says how a JSON object becomes a record.Record. Field names
// are matched after flattening, so a nested field is named with dots
// ("kubernetes.pod.name").
type RecordConfig struct {
	// TimeFields are tried in order; the first present one is the record's
	// time. When none is present the time of arrival is used.
	TimeFields []string
	// MessageFields are tried in order; the first present one becomes the
	// record's message and is removed from its fields.
	MessageFields []string
	// StreamFields become the record's stream labels.
	StreamFields []string
	// MaxFieldsPerRecord rejects records with more fields (after
	// flattening); 0 means no limit.
	MaxFieldsPerRecord int
	// MaxLineBytes bounds one line of a line-oriented body.
	MaxLineBytes int
	// Window rejects (or stamps) records whose time is outside it; nil
	// accepts every time.
	Window *TimeWindow
}

// WithQuery returns c with the field lists that q names replaced. Each
// parameter takes a comma-separated list; a parameter that is present but
// empty clears its list (no time field: every record gets its arrival time).
func (c RecordConfig) WithQuery(q url.Values) RecordConfig {
	if q.Has(QueryTimeField) {
		c.TimeFields = splitList(q.Get(QueryTimeField))
	}
	if q.Has(QueryMsgField) {
		c.MessageFields = splitList(q.Get(QueryMsgField))
	}
	if q.Has(QueryStreamFields) {
		c.StreamFields = splitList(q.Get(QueryStreamFields))
	}
	return c
}

func splitList(s string) []string {
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}
