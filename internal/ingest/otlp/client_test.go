package otlp

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"

	"github.com/sluice-log/sluice/internal/ingest"
)

// emit sends n records through an SDK LoggerProvider with a batch
// processor over exp, then shuts it down, which flushes.
func emit(t *testing.T, exp sdklog.Exporter, n int) {
	t.Helper()
	ctx := context.Background()
	res := resource.NewSchemaless(attribute.String("service.name", "billing"), attribute.String("service.version", "2.0"))
	lp := sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(sdklog.NewBatchProcessor(exp, sdklog.WithExportMaxBatchSize(100))))
	logger := lp.Logger("sluice/test", otellog.WithInstrumentationVersion("v9"))
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{0xab, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
		SpanID:  trace.SpanID{0xcd, 1, 2, 3, 4, 5, 6, 7},
	})
	spanCtx := trace.ContextWithSpanContext(ctx, sc)
	base := time.Unix(1_750_000_000, 0)
	for i := range n {
		var r otellog.Record
		r.SetTimestamp(base.Add(time.Duration(i) * time.Millisecond))
		r.SetBody(attribute.StringValue(fmt.Sprintf("order %d paid", i)))
		r.SetSeverity(otellog.SeverityError)
		r.SetSeverityText("ERROR")
		r.AddAttributes(attribute.Int("order.id", i), attribute.String("user", "u1"),
			attribute.Map("http", attribute.String("method", "POST")))
		logger.Emit(spanCtx, r)
	}
	if err := lp.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown logger provider: %v", err)
	}
}

func checkSDKRecords(t *testing.T, sink *memSink, n int) {
	t.Helper()
	recs := sink.records()
	if len(recs) != n {
		t.Fatalf("got %d records, want %d", len(recs), n)
	}
	seen := map[string]bool{}
	for _, r := range recs {
		id, _ := r.Get("order.id")
		seen[id] = true
		if r.Message != "order "+id+" paid" {
			t.Fatalf("message %q for order %s", r.Message, id)
		}
		for name, want := range map[string]string{
			"service.name": "billing", "service.version": "2.0", "scope.name": "sluice/test", "scope.version": "v9",
			"level": "error", "severity_number": "17", "user": "u1", "http.method": "POST",
			"trace_id": "ab0102030405060708090a0b0c0d0e0f", "span_id": "cd01020304050607",
		} {
			if got, _ := r.Get(name); got != want {
				t.Fatalf("%s = %q, want %q in %+v", name, got, want, r)
			}
		}
		if r.StreamString() != `{service.name="billing"}` {
			t.Fatalf("stream %s", r.StreamString())
		}
	}
	if len(seen) != n {
		t.Fatalf("%d distinct order ids, want %d", len(seen), n)
	}
}

func TestSDKHTTPExporter(t *testing.T) {
	// The first batch is refused with backpressure: the exporter must
	// retry after Retry-After, and nothing may be stored twice.
	sink := &memSink{fail: func(call int) error {
		if call == 1 {
			return &ingest.BackpressureError{RetryAfter: time.Second, Reason: "test"}
		}
		return nil
	}}
	srv := httptest.NewServer(NewHandler(sink, DefaultConfig(), nil, nil))
	defer srv.Close()
	for _, compress := range []otlploghttp.Compression{otlploghttp.NoCompression, otlploghttp.GzipCompression} {
		before := len(sink.records())
		exp, err := otlploghttp.New(context.Background(), otlploghttp.WithEndpointURL(srv.URL+"/v1/logs"),
			otlploghttp.WithCompression(compress),
			otlploghttp.WithRetry(otlploghttp.RetryConfig{Enabled: true, InitialInterval: 10 * time.Millisecond, MaxInterval: 2 * time.Second, MaxElapsedTime: 20 * time.Second}))
		if err != nil {
			t.Fatal(err)
		}
		emit(t, exp, 250)
		if got := len(sink.records()) - before; got != 250 {
			t.Fatalf("compression %v: stored %d, want 250", compress, got)
		}
	}
	recs := sink.records()
	sink.recs = recs[:250]
	checkSDKRecords(t, sink, 250)
}

func TestSDKGRPCExporter(t *testing.T) {
	sink := &memSink{fail: func(call int) error {
		if call == 1 {
			return &ingest.BackpressureError{RetryAfter: time.Second, Reason: "test"}
		}
		return nil
	}}
	srv, err := ListenGRPC("127.0.0.1:0", nil, sink, DefaultConfig(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer serveGRPC(t, srv)()
	exp, err := otlploggrpc.New(context.Background(), otlploggrpc.WithEndpoint(srv.Addr()), otlploggrpc.WithInsecure(),
		otlploggrpc.WithCompressor("gzip"),
		otlploggrpc.WithRetry(otlploggrpc.RetryConfig{Enabled: true, InitialInterval: 10 * time.Millisecond, MaxInterval: 2 * time.Second, MaxElapsedTime: 20 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	emit(t, exp, 250)
	checkSDKRecords(t, sink, 250)
	if sink.calls < 4 { // 3 batches of at most 100, one refused first
		t.Fatalf("%d sink calls: the refused batch was not retried", sink.calls)
	}
}

// TestSDKGRPCExporterInFlight: while the request bytes in flight are at
// their bound, Export is refused with Unavailable (before gRPC reads the
// message), which the OpenTelemetry SDK's exporter retries; once the bytes
// are freed every record arrives.
func TestSDKGRPCExporterInFlight(t *testing.T) {
	sink := &memSink{}
	reg := prometheus.NewRegistry()
	cfg := DefaultConfig()
	cfg.InFlight = ingest.NewInFlight(1<<10, reg)
	other, _ := cfg.InFlight.TryAcquire("jsonline", 4<<10) // another receiver's request
	srv, err := ListenGRPC("127.0.0.1:0", nil, sink, cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer serveGRPC(t, srv)()
	refusals := func() float64 {
		mfs, err := reg.Gather()
		if err != nil {
			t.Error(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == "sluice_ingest_in_flight_rejected_total" {
				for _, m := range mf.GetMetric() {
					return m.GetCounter().GetValue()
				}
			}
		}
		return 0
	}
	go func() {
		for refusals() == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		other.Release()
	}()
	exp, err := otlploggrpc.New(context.Background(), otlploggrpc.WithEndpoint(srv.Addr()), otlploggrpc.WithInsecure(),
		otlploggrpc.WithRetry(otlploggrpc.RetryConfig{Enabled: true, InitialInterval: 10 * time.Millisecond, MaxInterval: 2 * time.Second, MaxElapsedTime: 20 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	emit(t, exp, 250)
	checkSDKRecords(t, sink, 250)
	if refusals() == 0 || cfg.InFlight.Used() != 0 {
		t.Fatalf("refusals %v, %d bytes still held", refusals(), cfg.InFlight.Used())
	}
}
