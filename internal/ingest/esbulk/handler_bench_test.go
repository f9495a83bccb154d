package esbulk

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

// BenchmarkBulk measures a Filebeat-like request of 1000 documents.
func BenchmarkBulk(b *testing.B) {
	var body bytes.Buffer
	for i := range 1000 {
		fmt.Fprintf(&body, `{"create":{"_index":"filebeat-8.17.0"}}`+"\n"+
			`{"@timestamp":"2024-05-06T07:08:%02d.%03dZ","message":"GET /api/v1/cart/%d 200 12ms","host":{"name":"web-%d"},`+
			`"log":{"file":{"path":"/var/log/app.log"},"offset":%d},"ecs":{"version":"8.0.0"},"agent":{"type":"filebeat","version":"8.17.0"}}`+"\n",
			i%60, i%1000, i, i%8, i*300)
	}
	h := NewHandler(discardSink{}, DefaultConfig(), nil, nil)
	b.SetBytes(int64(body.Len()))
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/_bulk", bytes.NewReader(body.Bytes())))
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}
