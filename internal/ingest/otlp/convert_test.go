package otlp

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"

	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/record"
)

// request builds a one-resource, one-scope request.
func request(res []*commonpb.KeyValue, scope *commonpb.InstrumentationScope, lrs ...*logspb.LogRecord) *collogspb.ExportLogsServiceRequest {
	return &collogspb.ExportLogsServiceRequest{ResourceLogs: []*logspb.ResourceLogs{{
		Resource:  &resourcepb.Resource{Attributes: res},
		ScopeLogs: []*logspb.ScopeLogs{{Scope: scope, LogRecords: lrs}},
	}}}
}

func fields(kvs ...string) []record.Field {
	var fs []record.Field
	for i := 0; i+1 < len(kvs); i += 2 {
		fs = append(fs, record.Field{Name: kvs[i], Value: kvs[i+1]})
	}
	return fs
}

var testNow = time.Unix(1_700_000_000, 0)

func TestConvert(t *testing.T) {
	traceID := []byte{0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03, 0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6, 0x0c}
	spanID := []byte{0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74}
	res := []*commonpb.KeyValue{
		kv("service.name", str("checkout")),
		kv("host.name", str("node-1")),
		kv("k8s.pod.uid", str("abc")),
		kv("service.version", str("1.2.3")),
	}
	scope := &commonpb.InstrumentationScope{Name: "app/log", Version: "v0.1"}
	for _, tc := range []struct {
		name string
		lr   *logspb.LogRecord
		want record.Record
	}{
		{
			name: "full record",
			lr: &logspb.LogRecord{
				TimeUnixNano:         1_700_000_001_000_000_123,
				ObservedTimeUnixNano: 1_700_000_002_000_000_000,
				SeverityNumber:       logspb.SeverityNumber_SEVERITY_NUMBER_WARN2,
				SeverityText:         "WARNING",
				Body:                 str("payment declined"),
				Attributes: []*commonpb.KeyValue{
					kv("http", kvl(kv("method", str("POST")), kv("status", intv(402)))),
					kv("tags", arr(str("a"), str("b"))),
					kv("ratio", dbl(0.25)),
					kv("retry", boolv(false)),
					kv("empty", &commonpb.AnyValue{}),
					kv("service.version", str("override")),
				},
				TraceId:   traceID,
				SpanId:    spanID,
				EventName: "payment.declined",
			},
			want: record.Record{
				Time: 1_700_000_001_000_000_123, Tenant: "t1", Message: "payment declined",
				Stream: fields("host.name", "node-1", "service.name", "checkout"),
				Fields: fields("k8s.pod.uid", "abc", "service.version", "override", "scope.name", "app/log", "scope.version", "v0.1",
					"http.method", "POST", "http.status", "402", "tags", `["a","b"]`, "ratio", "0.25", "retry", "false",
					"level", "warn", "severity_text", "WARNING", "severity_number", "14",
					"trace_id", "5b8efff798038103d269b633813fc60c", "span_id", "eee19b7ec3c1b174", "event_name", "payment.declined"),
			},
		},
		{
			name: "observed time, kvlist body, text severity, zero ids",
			lr: &logspb.LogRecord{
				ObservedTimeUnixNano: 1_700_000_002_000_000_000,
				SeverityText:         "Error",
				Body:                 kvl(kv("msg", str("x")), kv("n", intv(1))),
				TraceId:              make([]byte, 16),
			},
			want: record.Record{
				Time: 1_700_000_002_000_000_000, Tenant: "t1", Message: `{"msg":"x","n":1}`,
				Stream: fields("host.name", "node-1", "service.name", "checkout"),
				Fields: fields("k8s.pod.uid", "abc", "service.version", "1.2.3", "scope.name", "app/log", "scope.version", "v0.1", "level", "error", "severity_text", "Error"),
			},
		},
		{
			name: "no time, no body; a log attribute cannot shadow a stream label; level attribute kept without severity",
			lr:   &logspb.LogRecord{Attributes: []*commonpb.KeyValue{kv("service.name", str("evil")), kv("level", str("custom"))}},
			want: record.Record{
				Time: testNow.UnixNano(), Tenant: "t1",
				Stream: fields("host.name", "node-1", "service.name", "checkout"),
				Fields: fields("k8s.pod.uid", "abc", "service.version", "1.2.3", "scope.name", "app/log", "scope.version", "v0.1", "level", "custom"),
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewConverter(DefaultConfig())
			got := c.Convert(request(res, scope, tc.lr), "t1", testNow)
			if got.Rejected != 0 {
				t.Fatalf("rejected %d: %v", got.Rejected, got.FirstErr)
			}
			if len(got.Records) != 1 {
				t.Fatalf("got %d records", len(got.Records))
			}
			if !reflect.DeepEqual(got.Records[0], tc.want) {
				t.Fatalf("got\n%+v\nwant\n%+v", got.Records[0], tc.want)
			}
		})
	}
}

func TestConvertStreamPrefix(t *testing.T) {
	c := NewConverter(Config{StreamFields: []string{"k8s.*", "service.name"}})
	got := c.Convert(request([]*commonpb.KeyValue{
		kv("k8s.pod.name", str("p")), kv("k8s.namespace.name", str("ns")), kv("service.name", str("s")), kv("host.name", str("h")),
	}, nil, &logspb.LogRecord{Body: str("m")}), "", testNow)
	want := fields("k8s.namespace.name", "ns", "k8s.pod.name", "p", "service.name", "s")
	if !reflect.DeepEqual(got.Records[0].Stream, want) || !reflect.DeepEqual(got.Records[0].Fields, fields("host.name", "h")) {
		t.Fatalf("got stream %v fields %v", got.Records[0].Stream, got.Records[0].Fields)
	}
}

func TestConvertRejects(t *testing.T) {
	many := make([]*commonpb.KeyValue, 5)
	for i := range many {
		many[i] = kv(strings.Repeat("f", i+1), intv(int64(i)))
	}
	for _, tc := range []struct {
		name     string
		res      []*commonpb.KeyValue
		lr       *logspb.LogRecord
		wantErr  error
		wantText string
	}{
		{"reserved attribute", nil, &logspb.LogRecord{Attributes: []*commonpb.KeyValue{kv("_msg", str("x"))}}, ingest.ErrFieldName, `"_msg"`},
		{"reserved nested name", nil, &logspb.LogRecord{Attributes: []*commonpb.KeyValue{kv("_stream", str("x"))}}, ingest.ErrFieldName, `"_stream"`},
		{"empty key", nil, &logspb.LogRecord{Attributes: []*commonpb.KeyValue{kv("a", kvl(kv("", str("x"))))}}, ingest.ErrFieldName, "empty attribute key"},
		{"empty resource key", []*commonpb.KeyValue{kv("", str("x"))}, &logspb.LogRecord{}, ingest.ErrFieldName, "resource attributes"},
		{"too many fields", nil, &logspb.LogRecord{Attributes: many}, ingest.ErrTooManyFields, "more than 4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewConverter(Config{MaxFieldsPerRecord: 4})
			req := request(tc.res, nil, tc.lr, &logspb.LogRecord{Body: str("fine")})
			got := c.Convert(req, "", testNow)
			wantKept := 1
			if tc.res != nil { // a bad resource rejects all its records
				wantKept = 0
			}
			if len(got.Records) != wantKept || got.Rejected != 2-wantKept {
				t.Fatalf("kept %d rejected %d", len(got.Records), got.Rejected)
			}
			if !errors.Is(got.FirstErr, tc.wantErr) || !strings.Contains(got.FirstErr.Error(), tc.wantText) {
				t.Fatalf("error %v, want %v containing %q", got.FirstErr, tc.wantErr, tc.wantText)
			}
			if got.Reasons[ingest.RejectReason(tc.wantErr)] != 2-wantKept {
				t.Fatalf("reasons %v", got.Reasons)
			}
		})
	}
}

func TestConvertManyAttributesKeepsLastValue(t *testing.T) {
	// Past indexThreshold names are looked up in a map; repeats must still
	// replace in place.
	var attrs []*commonpb.KeyValue
	for i := range 2 * indexThreshold {
		attrs = append(attrs, kv("a"+strings.Repeat("x", i), intv(int64(i))))
	}
	attrs = append(attrs, kv("a", str("last")), kv("ax", str("last2")))
	got := NewConverter(Config{}).Convert(request(nil, nil, &logspb.LogRecord{Attributes: attrs}), "", testNow)
	r := got.Records[0]
	if len(r.Fields) != 2*indexThreshold {
		t.Fatalf("got %d fields", len(r.Fields))
	}
	if v, _ := r.Get("a"); v != "last" {
		t.Fatalf("a = %q", v)
	}
	if v, _ := r.Get("ax"); v != "last2" {
		t.Fatalf("ax = %q", v)
	}
}

func TestClampTime(t *testing.T) {
	if got := clampTime(1<<64 - 1); got != 1<<63-1 {
		t.Fatalf("clampTime(max) = %d", got)
	}
	if got := clampTime(5); got != 5 {
		t.Fatalf("clampTime(5) = %d", got)
	}
}
