package main

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/golang/snappy"
	collogs "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	"google.golang.org/protobuf/encoding/protowire"
)

// The field (or label, attribute, SD parameter) that tells the receivers'
// records apart is benchField; its value is the receiver's name.
const benchField = "bench_receiver"

// appendJSONLine appends r as a JSON line for /insert/jsonline: the
// generated line with the bench field added.
func appendJSONLine(dst []byte, r *rec, name string) []byte {
	dst = append(dst, r.line[:len(r.line)-1]...) // without the closing brace
	dst = append(dst, `,"`+benchField+`":`...)
	dst = strconv.AppendQuote(dst, name)
	return append(dst, "}\n"...)
}

// esDoc returns r as an Elasticsearch document, with the _bulk API's
// default time and message fields.
func esDoc(r *rec, name string) []byte {
	b := []byte(`{"@timestamp":"`)
	b = time.Unix(0, r.time).UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","message":`...)
	b = appendJSONString(b, r.msg)
	for _, f := range r.fields {
		b = append(b, ',')
		b = appendJSONString(b, f.name)
		b = append(b, ':')
		b = appendJSONString(b, f.value)
	}
	b = append(b, `,"`+benchField+`":`...)
	b = appendJSONString(b, name)
	return append(b, '}')
}

func appendJSONString(dst []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals
	return append(dst, q...)
}

// syslogSeverity maps the generated levels to syslog severities.
var syslogSeverity = map[string]int{"error": 3, "warn": 4, "info": 6, "debug": 7}

// appendSyslogFrame appends r as an octet-counted RFC 5424 message of
// facility user: host and service in the header, the bench field as
// [bench receiver="…"] and the other fields as parameters of [f …].
func appendSyslogFrame(dst []byte, r *rec, name string) []byte {
	sev, ok := syslogSeverity[r.get("level")]
	if !ok {
		sev = 6
	}
	m := []byte("<" + strconv.Itoa(8+sev) + ">1 ")
	m = time.Unix(0, r.time).UTC().AppendFormat(m, "2006-01-02T15:04:05.000000Z07:00")
	m = append(m, ' ')
	m = append(m, headerToken(r.get("host"), 255)...)
	m = append(m, ' ')
	m = append(m, headerToken(r.get("service"), 48)...)
	m = append(m, ` - - [bench receiver="`...)
	m = appendSDValue(m, name)
	m = append(m, `"][f`...)
	for _, f := range r.fields {
		if f.name == "host" || f.name == "service" || f.name == "level" {
			continue
		}
		m = append(m, ' ')
		m = append(m, f.name...)
		m = append(m, `="`...)
		m = appendSDValue(m, f.value)
		m = append(m, '"')
	}
	m = append(m, "] "...)
	m = append(m, r.msg...)
	dst = strconv.AppendInt(dst, int64(len(m)), 10)
	dst = append(dst, ' ')
	return append(dst, m...)
}

// headerToken makes s a valid RFC 5424 header field: printable ASCII, no
// spaces, at most max bytes, "-" when empty.
func headerToken(s string, max int) string {
	s = strings.Map(func(c rune) rune {
		if c <= ' ' || c > '~' {
			return '_'
		}
		return c
	}, s)
	if len(s) > max {
		s = s[:max]
	}
	if s == "" {
		return "-"
	}
	return s
}

func appendSDValue(dst []byte, v string) []byte {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == '"' || c == '\\' || c == ']' {
			dst = append(dst, '\\')
		}
		dst = append(dst, v[i])
	}
	return dst
}

// lokiPush returns recs as a snappy-compressed logproto.PushRequest, one
// stream per service labelled {bench_receiver, service}, the other fields
// as structured metadata. The protobuf is written with protowire from
// Loki's published field numbers (Loki's module is AGPL): PushRequest
// {streams=1}, StreamAdapter{labels=1, entries=2}, EntryAdapter
// {timestamp=1, line=2, structuredMetadata=3}, LabelPairAdapter{name=1,
// value=2}, Timestamp{seconds=1, nanos=2}.
func lokiPush(recs []rec, name string) []byte {
	streams := map[string][]byte{} // labels -> encoded entries
	for i := range recs {
		r := &recs[i]
		labels := `{` + benchField + `=` + strconv.Quote(name) + `, service=` + strconv.Quote(r.get("service")) + `}`
		var ts []byte
		ts = protowire.AppendTag(ts, 1, protowire.VarintType)
		ts = protowire.AppendVarint(ts, uint64(r.time/1e9))
		ts = protowire.AppendTag(ts, 2, protowire.VarintType)
		ts = protowire.AppendVarint(ts, uint64(r.time%1e9))
		var e []byte
		e = pbBytes(e, 1, ts)
		e = pbBytes(e, 2, []byte(r.msg))
		for _, f := range r.fields {
			if f.name == "service" {
				continue
			}
			e = pbBytes(e, 3, pbBytes(pbBytes(nil, 1, []byte(f.name)), 2, []byte(f.value)))
		}
		streams[labels] = pbBytes(streams[labels], 2, e)
	}
	keys := make([]string, 0, len(streams))
	for k := range streams {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var req []byte
	for _, k := range keys {
		req = pbBytes(req, 1, append(pbBytes(nil, 1, []byte(k)), streams[k]...))
	}
	return snappy.Encode(nil, req)
}

func pbBytes(b []byte, num protowire.Number, v []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

// otlpRequest returns recs as one OTLP export request: the message as a
// string body, level as severity text, every other field and the bench
// field as log record attributes.
func otlpRequest(recs []rec, name string) *collogs.ExportLogsServiceRequest {
	lrs := make([]*logspb.LogRecord, len(recs))
	for i := range recs {
		r := &recs[i]
		lr := &logspb.LogRecord{
			TimeUnixNano: uint64(r.time),
			SeverityText: r.get("level"),
			Body:         strValue(r.msg),
			Attributes:   []*commonpb.KeyValue{{Key: benchField, Value: strValue(name)}},
		}
		for _, f := range r.fields {
			if f.name != "level" {
				lr.Attributes = append(lr.Attributes, &commonpb.KeyValue{Key: f.name, Value: strValue(f.value)})
			}
		}
		lrs[i] = lr
	}
	return &collogs.ExportLogsServiceRequest{ResourceLogs: []*logspb.ResourceLogs{{
		ScopeLogs: []*logspb.ScopeLogs{{Scope: &commonpb.InstrumentationScope{Name: "sluice-bench-receivers"}, LogRecords: lrs}},
	}}}
}

func strValue(s string) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: s}}
}
