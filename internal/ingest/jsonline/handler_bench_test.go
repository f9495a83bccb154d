package jsonline

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-log/sluice/bench/altgen"
	"github.com/sluice-log/sluice/bench/gen"
	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/record"
)

type discardSink struct{}

func (discardSink) Ingest(context.Context, []record.Record) error { return nil }

// benchBody returns n realistic lines of about 300 bytes.
func benchBody(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, `{"_time":"2024-05-06T07:08:%02d.%06dZ","service":"checkout","host":"web-%d","level":"info",`+
			`"_msg":"GET /api/v1/cart/%d/items completed","http":{"method":"GET","status":200,"path":"/api/v1/cart/items",`+
			`"duration_ms":12.5},"trace_id":"4bf92f3577b34da6a3ce929d0e0e%04d","user_id":%d}`+"\n",
			i%60, i%1000000, i%8, i, i%10000, i)
	}
	return b.Bytes()
}

func BenchmarkHandler(b *testing.B) {
	body := benchBody(1000)
	h := NewHandler(discardSink{}, DefaultConfig(), nil, nil)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body)))
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

// BenchmarkHandlerGen sends requests of 5000 bench/gen records (the
// harness's data set and batch size) through the handler with the server's
// default checks: a time window and the cardinality bounds. cpu-ns/record
// is the process's CPU time (the garbage collector's included), steadier
// than ns/op on a shared machine; compare in alternating runs (-count).
func BenchmarkHandlerGen(b *testing.B) {
	const perRequest = 5000
	now := time.Now()
	g, err := gen.New(gen.Config{Seed: 1, Records: 4 * perRequest, End: now})
	if err != nil {
		b.Fatal(err)
	}
	var bodies [][]byte
	for g.Remaining() > 0 {
		body, _ := g.AppendBatch(nil, perRequest)
		bodies = append(bodies, body)
	}
	cfg := DefaultConfig()
	cfg.Record.Window = serverWindow()
	benchRequests(b, NewHandler(discardSink{}, cfg, nil, nil), bodies, perRequest)
}

// processCPU is the CPU time the process has used, user and system.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkHandlerAlt is BenchmarkHandlerGen with bench/altgen's records
// (issue 13's second data set: small records, whole-second times, its own
// field names mapped as sluice-bench -dataset alt maps them).
func BenchmarkHandlerAlt(b *testing.B) {
	const perRequest = 5000
	now := time.Now()
	g, err := altgen.New(altgen.Config{Seed: 1, Records: 4 * perRequest, End: now})
	if err != nil {
		b.Fatal(err)
	}
	var bodies [][]byte
	for g.Remaining() > 0 {
		body, _ := g.AppendBatch(nil, perRequest)
		bodies = append(bodies, body)
	}
	cfg := DefaultConfig()
	cfg.Record.TimeFields = []string{altgen.TimeField}
	cfg.Record.MessageFields = []string{altgen.MessageField}
	cfg.Record.StreamFields = altgen.StreamFields
	cfg.Record.Window = serverWindow()
	benchRequests(b, NewHandler(discardSink{}, cfg, nil, nil), bodies, perRequest)
}

// serverWindow is the time window and cardinality bounds the server
// checks by default.
func serverWindow() *ingest.TimeWindow {
	return ingest.NewTimeWindow(ingest.WindowConfig{
		MaxFuture: 48 * time.Hour,
		Cardinality: ingest.NewCardinality(ingest.CardinalityConfig{
			MaxStreams: 100000, MaxFieldNames: 10000, Window: 24 * time.Hour,
		}, nil),
	}, nil)
}

// benchRequests sends the bodies (perRequest records each) through h in
// turn and reports the process's CPU time per record.
func benchRequests(b *testing.B, h http.Handler, bodies [][]byte, perRequest int) {
	b.SetBytes(int64(len(bodies[0])))
	b.ReportAllocs()
	cpu0 := processCPU(b)
	i := 0
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/insert/jsonline", bytes.NewReader(bodies[i%len(bodies)])))
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %.300s", rec.Code, rec.Body)
		}
		i++
	}
	b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N*perRequest), "cpu-ns/record")
}
