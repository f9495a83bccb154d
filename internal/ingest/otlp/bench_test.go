package otlp

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/sluice-log/sluice/internal/record"
)

type discardSink struct{}

func (discardSink) Ingest(context.Context, []record.Record) error { return nil }

// benchRequest is a typical SDK batch: 1000 log records of one service with
// a handful of attributes each.
func benchRequest() []*logspb.LogRecord {
	lrs := make([]*logspb.LogRecord, 1000)
	for i := range lrs {
		lrs[i] = &logspb.LogRecord{
			TimeUnixNano:   uint64(1_750_000_000_000_000_000 + i),
			SeverityNumber: logspb.SeverityNumber_SEVERITY_NUMBER_INFO,
			SeverityText:   "INFO",
			Body:           str(fmt.Sprintf("GET /api/v1/orders/%d served in %dms", i, i%250)),
			TraceId:        []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, byte(i)},
			SpanId:         []byte{1, 2, 3, 4, 5, 6, 7, byte(i)},
			Attributes: []*commonpb.KeyValue{
				kv("http.method", str("GET")), kv("http.status_code", intv(200)), kv("http.route", str("/api/v1/orders/{id}")),
				kv("user.id", str(fmt.Sprintf("u%d", i%97))), kv("duration_ms", dbl(float64(i%250))),
				kv("peer", kvl(kv("ip", str("10.0.0.1")), kv("port", intv(443)))),
			},
		}
	}
	return lrs
}

func benchHTTP(b *testing.B, enc Encoding) {
	req := request([]*commonpb.KeyValue{kv("service.name", str("orders")), kv("host.name", str("node-7")), kv("service.version", str("1.4"))},
		&commonpb.InstrumentationScope{Name: "orders/http"}, benchRequest()...)
	var body []byte
	if enc == JSON {
		// protojson writes ids in base64, OTLP/JSON in hex, which Decode
		// insists on; the JSON benchmark goes without ids.
		for _, lr := range req.ResourceLogs[0].ScopeLogs[0].LogRecords {
			lr.TraceId, lr.SpanId = nil, nil
		}
		body, _ = protojson.Marshal(req)
	} else {
		body, _ = proto.Marshal(req)
	}
	h := NewHandler(discardSink{}, DefaultConfig(), nil, nil)
	ct := enc.contentType()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, "/v1/logs", bytes.NewReader(body))
		r.Header.Set("Content-Type", ct)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkHTTPProtobuf measures decode, conversion and answer of OTLP/HTTP
// protobuf requests (the sink discards).
func BenchmarkHTTPProtobuf(b *testing.B) { benchHTTP(b, Protobuf) }

// BenchmarkHTTPJSON does the same for OTLP/JSON.
func BenchmarkHTTPJSON(b *testing.B) { benchHTTP(b, JSON) }
