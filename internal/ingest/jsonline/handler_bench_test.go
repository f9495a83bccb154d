package jsonline

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

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
