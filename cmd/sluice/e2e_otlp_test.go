package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
)

// otlpEmit sends n log records of service through the OpenTelemetry Go SDK
// (batch processor) over exp and shuts the provider down, which flushes.
func otlpEmit(t *testing.T, exp sdklog.Exporter, service string, n int, sev otellog.Severity) {
	t.Helper()
	lp := sdklog.NewLoggerProvider(
		sdklog.WithResource(resource.NewSchemaless(attribute.String("service.name", service), attribute.String("deployment.environment", "e2e"))),
		sdklog.WithProcessor(sdklog.NewBatchProcessor(exp, sdklog.WithExportMaxBatchSize(128))))
	logger := lp.Logger("e2e/otlp", otellog.WithInstrumentationVersion("1.0"))
	now := time.Now()
	for i := range n {
		var r otellog.Record
		r.SetTimestamp(now.Add(time.Duration(i) * time.Microsecond))
		r.SetBody(attribute.StringValue(fmt.Sprintf("%s order %d shipped", service, i)))
		r.SetSeverity(sev)
		r.AddAttributes(attribute.Int("order.id", i), attribute.Map("http", attribute.String("method", "PUT")))
		logger.Emit(context.Background(), r)
	}
	if err := lp.Shutdown(context.Background()); err != nil {
		t.Fatalf("%s: shut down logger provider: %v", service, err)
	}
}

func otlpCount(s *server, q string, extra ...string) int {
	s.t.Helper()
	rows := s.queryRows(q+" | stats count() as n", extra...)
	if len(rows) != 1 {
		s.t.Fatalf("%q: want one row, got %v", q, rows)
	}
	n, _ := rows[0]["n"].(float64)
	return int(n)
}

func TestE2EOTLP(t *testing.T) {
	needBinary(t)
	t.Parallel()
	grpcAddr := freeAddr(t)
	s := startServer(t, t.TempDir(), fmt.Sprintf(`
forward: {enabled: false}
syslog: {enabled: false}
otlp:
  grpc_addr: %q
`, grpcAddr))
	ctx := context.Background()

	// 1. OTLP/HTTP (protobuf, gzip) with the SDK's HTTP exporter.
	hexp, err := otlploghttp.New(ctx, otlploghttp.WithEndpointURL(s.url+"/v1/logs"), otlploghttp.WithCompression(otlploghttp.GzipCompression))
	if err != nil {
		t.Fatal(err)
	}
	otlpEmit(t, hexp, "e2e-http", 300, otellog.SeverityWarn)

	// 2. OTLP/gRPC with the SDK's gRPC exporter, for another tenant.
	gexp, err := otlploggrpc.New(ctx, otlploggrpc.WithEndpoint(grpcAddr), otlploggrpc.WithInsecure(),
		otlploggrpc.WithHeaders(map[string]string{"X-Scope-OrgID": "grpc-team"}), otlploggrpc.WithCompressor("gzip"))
	if err != nil {
		t.Fatal(err)
	}
	otlpEmit(t, gexp, "e2e-grpc", 200, otellog.SeverityError2)

	// 3. OTLP/JSON by hand: hex ids, int64 as strings; one record is
	// rejected for a reserved attribute name and reported as partial success.
	ts := time.Now().UnixNano()
	body := fmt.Sprintf(`{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"e2e-json"}}]},
"scopeLogs":[{"logRecords":[
 {"timeUnixNano":"%d","severityText":"Warning","traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174",
  "body":{"stringValue":"json record"},"eventName":"cart.checkout","attributes":[{"key":"items","value":{"intValue":"3"}}]},
 {"timeUnixNano":"%d","body":{"stringValue":"bad"},"attributes":[{"key":"_msg","value":{"stringValue":"x"}}]}]}]}]}`, ts, ts)
	status, answer, hdr := s.post("/v1/logs", "application/json", []byte(body))
	if status != 200 || hdr.Get("Content-Type") != "application/json" {
		t.Fatalf("OTLP/JSON: status %d %s: %s", status, hdr.Get("Content-Type"), answer)
	}
	var resp struct {
		PartialSuccess struct {
			RejectedLogRecords string `json:"rejectedLogRecords"`
			ErrorMessage       string `json:"errorMessage"`
		} `json:"partialSuccess"`
	}
	if err := json.Unmarshal([]byte(answer), &resp); err != nil || resp.PartialSuccess.RejectedLogRecords != "1" ||
		!strings.Contains(resp.PartialSuccess.ErrorMessage, `"_msg"`) {
		t.Fatalf("OTLP/JSON answer %s (%v): want one rejected record", answer, err)
	}
	status, answer, _ = s.post("/v1/logs", "application/x-protobuf", []byte{0x0a, 0xff})
	if status != 400 {
		t.Fatalf("bad protobuf: status %d: %q", status, answer)
	}

	// Exact counts, per transport and tenant.
	for _, c := range []struct {
		q      string
		tenant string
		want   int
	}{
		{`service.name:"e2e-http"`, "", 300},
		{`service.name:"e2e-http" AND level:warn AND severity_number:13 AND scope.name:"e2e/otlp" AND http.method:PUT`, "", 300},
		{`service.name:"e2e-http" AND order.id:>=250`, "", 50},
		{`service.name:"e2e-grpc"`, "", 0},
		{`service.name:"e2e-grpc"`, "grpc-team", 200},
		{`service.name:"e2e-grpc" AND level:error AND severity_number:18 AND deployment.environment:e2e`, "grpc-team", 200},
		{`service.name:"e2e-json"`, "", 1},
	} {
		var extra []string
		if c.tenant != "" {
			extra = []string{"--tenant", c.tenant}
		}
		if got := otlpCount(s, c.q, extra...); got != c.want {
			t.Errorf("%s (tenant %q): %d records, want %d", c.q, c.tenant, got, c.want)
		}
	}

	rows := s.queryRows(`trace_id:5b8efff798038103d269b633813fc60c`)
	if len(rows) != 1 {
		t.Fatalf("trace id query: %v", rows)
	}
	for name, want := range map[string]any{
		"_msg": "json record", "_stream": `{service.name="e2e-json"}`, "span_id": "eee19b7ec3c1b174",
		"level": "warn", "event_name": "cart.checkout", "items": "3",
	} {
		if rows[0][name] != want {
			t.Errorf("%s = %v, want %v (row %v)", name, rows[0][name], want, rows[0])
		}
	}
	rows = s.queryRows(`service.name:"e2e-http" AND order.id:7`)
	if len(rows) != 1 || rows[0]["_msg"] != "e2e-http order 7 shipped" || rows[0]["_stream"] != `{service.name="e2e-http"}` {
		t.Fatalf("order 7: %v", rows)
	}
	s.stop()
}
