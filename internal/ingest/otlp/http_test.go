package otlp

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/tenant"
)

// otlpJSON is an OTLP/JSON request as the specification's example writes
// it: hex ids, lowerCamelCase names, 64-bit integers as strings.
const otlpJSON = `{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"cart"}}]},
"scopeLogs":[{"scope":{"name":"my.library","version":"1.0.0"},"logRecords":[
{"timeUnixNano":"1544712660300000000","observedTimeUnixNano":"1544712660300000000","severityNumber":10,"severityText":"Information",
 "traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174","body":{"stringValue":"Example log record"},
 "attributes":[{"key":"string.attribute","value":{"stringValue":"some string"}},{"key":"int.attribute","value":{"intValue":"10"}},
  {"key":"map.attribute","value":{"kvlistValue":{"values":[{"key":"some.map.key","value":{"stringValue":"some value"}}]}}}]},
{"time_unix_nano":"1544712660300000001","severity_number":"SEVERITY_NUMBER_ERROR","body":{"stringValue":"second"},"trace_id":""}
]}]}]}`

func post(t *testing.T, h http.Handler, ct, enc string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/v1/logs", bytes.NewReader(body))
	r.Header.Set("Content-Type", ct)
	r = r.WithContext(tenant.With(r.Context(), "acme"))
	if enc != "" {
		r.Header.Set("Content-Encoding", enc)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

func TestHTTPJSON(t *testing.T) {
	sink := &memSink{}
	h := NewHandler(sink, DefaultConfig(), nil, nil)
	for _, enc := range []string{"", "gzip"} {
		body := []byte(otlpJSON)
		if enc == "gzip" {
			body = gz(body)
		}
		w := post(t, h, "application/json; charset=utf-8", enc, body)
		if w.Code != http.StatusOK || w.Header().Get("Content-Type") != ContentTypeJSON {
			t.Fatalf("%q: status %d %s: %s", enc, w.Code, w.Header().Get("Content-Type"), w.Body)
		}
		var resp collogspb.ExportLogsServiceResponse
		if err := protojson.Unmarshal(w.Body.Bytes(), &resp); err != nil || resp.PartialSuccess != nil {
			t.Fatalf("answer %s: %v", w.Body, err)
		}
	}
	recs := sink.records()
	if len(recs) != 4 {
		t.Fatalf("got %d records", len(recs))
	}
	r := recs[0]
	for name, want := range map[string]string{
		"service.name": "cart", "trace_id": "5b8efff798038103d269b633813fc60c", "span_id": "eee19b7ec3c1b174",
		"level": "info", "severity_number": "10", "int.attribute": "10", "map.attribute.some.map.key": "some value",
		"scope.name": "my.library", "_msg": "Example log record",
	} {
		if got, _ := r.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if r.Tenant != "acme" || r.Time != 1544712660300000000 {
		t.Errorf("tenant %q time %d", r.Tenant, r.Time)
	}
	if l, _ := recs[1].Get("level"); l != "error" || recs[1].Time != 1544712660300000001 {
		t.Errorf("second record: %+v", recs[1])
	}
}

func TestHTTPProtobufPartialSuccess(t *testing.T) {
	sink := &memSink{}
	h := NewHandler(sink, DefaultConfig(), nil, nil)
	req := request(nil, nil,
		&logspb.LogRecord{Body: str("ok")},
		&logspb.LogRecord{Attributes: []*commonpb.KeyValue{kv("_time", str("x"))}})
	body, _ := proto.Marshal(req)
	w := post(t, h, ContentTypeProtobuf, "gzip", gz(body))
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != ContentTypeProtobuf {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	var resp collogspb.ExportLogsServiceResponse
	if err := proto.Unmarshal(w.Body.Bytes(), &resp); err != nil {
		t.Fatal(err)
	}
	if ps := resp.GetPartialSuccess(); ps.GetRejectedLogRecords() != 1 || !strings.Contains(ps.GetErrorMessage(), `"_time"`) {
		t.Fatalf("partial success %v", ps)
	}
	if n := len(sink.records()); n != 1 {
		t.Fatalf("stored %d records", n)
	}
}

func TestHTTPErrors(t *testing.T) {
	bp := &ingest.BackpressureError{RetryAfter: 1500 * time.Millisecond, Reason: "wal full"}
	valid, _ := proto.Marshal(request(nil, nil, &logspb.LogRecord{Body: str("x")}))
	for _, tc := range []struct {
		name, ct, enc string
		body          []byte
		fail          error
		status        int
		retryAfter    string
		msg           string
	}{
		{"bad protobuf", ContentTypeProtobuf, "", []byte{0x0a, 0xff}, nil, 400, "", "decode protobuf"},
		{"bad json", ContentTypeJSON, "", []byte(`{"resourceLogs":[`), nil, 400, "", "OTLP/JSON"},
		{"bad hex trace id", ContentTypeJSON, "", []byte(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"zz"}]}]}]}`), nil, 400, "", "traceId: want hex"},
		{"unknown json field type", ContentTypeJSON, "", []byte(`{"resourceLogs":{}}`), nil, 400, "", "OTLP/JSON"},
		{"bad gzip", ContentTypeProtobuf, "gzip", []byte("nope"), nil, 400, "", "gzip"},
		{"unsupported type", "text/plain", "", valid, nil, 415, "", "Content-Type"},
		{"backpressure", ContentTypeProtobuf, "", valid, bp, 429, "2", "wal full"},
		{"sink failure", ContentTypeProtobuf, "", valid, bytes.ErrTooLarge, 503, "", "too large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink := &memSink{fail: func(int) error { return tc.fail }}
			w := post(t, NewHandler(sink, DefaultConfig(), nil, nil), tc.ct, tc.enc, tc.body)
			if w.Code != tc.status || w.Header().Get("Retry-After") != tc.retryAfter {
				t.Fatalf("status %d Retry-After %q: %s", w.Code, w.Header().Get("Retry-After"), w.Body)
			}
			var st spb.Status
			unmarshal := proto.Unmarshal
			if tc.ct == ContentTypeJSON {
				unmarshal = protojson.Unmarshal
			}
			if err := unmarshal(w.Body.Bytes(), &st); err != nil || !strings.Contains(st.GetMessage(), tc.msg) {
				t.Fatalf("status body %q (%v), want it to mention %q", w.Body, err, tc.msg)
			}
		})
	}
}

func TestHTTPTooLarge(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxMessageBytes = 100
	body, _ := proto.Marshal(request(nil, nil, &logspb.LogRecord{Body: str(strings.Repeat("x", 200))}))
	w := post(t, NewHandler(&memSink{}, cfg, nil, nil), ContentTypeProtobuf, "gzip", gz(body))
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
}

// FuzzDecodeHTTP feeds arbitrary bodies in both encodings through decoding
// and conversion: nothing may panic, and every record must be well-formed.
func FuzzDecodeHTTP(f *testing.F) {
	valid, _ := proto.Marshal(request([]*commonpb.KeyValue{kv("service.name", str("s"))}, nil,
		&logspb.LogRecord{Body: kvl(kv("a", arr(intv(1)))), TraceId: []byte{1}, Attributes: []*commonpb.KeyValue{kv("x", kvl(kv("y", str("z"))))}}))
	f.Add(false, valid)
	f.Add(true, []byte(otlpJSON))
	f.Add(true, []byte(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"spanId":"0102","body":{"doubleValue":"NaN"}}]}]}]}`))
	f.Add(false, []byte{0x0a, 0x02, 0x12, 0x00})
	conv := NewConverter(Config{StreamFields: []string{"service.name", "k8s.*"}, MaxFieldsPerRecord: 50})
	f.Fuzz(func(t *testing.T, isJSON bool, body []byte) {
		enc := Protobuf
		if isJSON {
			enc = JSON
		}
		req, err := Decode(enc, body)
		if err != nil {
			return
		}
		res := conv.Convert(req, "", testNow)
		for _, r := range res.Records {
			seen := map[string]bool{}
			for _, fl := range append(append([]record.Field(nil), r.Stream...), r.Fields...) {
				if fl.Name == "" || seen[fl.Name] || fl.Value == "" {
					t.Fatalf("bad field %q=%q in %+v", fl.Name, fl.Value, r)
				}
				seen[fl.Name] = true
			}
		}
	})
}

// TestHTTPTimeWindow: a log record outside the window is rejected on its
// own and reported in partial_success.
func TestHTTPTimeWindow(t *testing.T) {
	sink := &memSink{}
	cfg := DefaultConfig()
	cfg.Window = ingest.NewTimeWindow(ingest.WindowConfig{Retention: 24 * time.Hour}, nil)
	h := NewHandler(sink, cfg, nil, nil)
	old := uint64(time.Now().Add(-48 * time.Hour).UnixNano())
	body, _ := proto.Marshal(request(nil, nil, &logspb.LogRecord{Body: str("now")}, &logspb.LogRecord{Body: str("old"), TimeUnixNano: old}))
	w := post(t, h, ContentTypeProtobuf, "", body)
	var resp collogspb.ExportLogsServiceResponse
	if err := proto.Unmarshal(w.Body.Bytes(), &resp); err != nil || w.Code != http.StatusOK {
		t.Fatalf("status %d: %s (%v)", w.Code, w.Body, err)
	}
	if ps := resp.GetPartialSuccess(); ps.GetRejectedLogRecords() != 1 || !strings.Contains(ps.GetErrorMessage(), "first: time older than the retention: ") {
		t.Fatalf("partial success %v", ps)
	}
	if recs := sink.records(); len(recs) != 1 || recs[0].Message != "now" {
		t.Fatalf("stored %v", recs)
	}
}
