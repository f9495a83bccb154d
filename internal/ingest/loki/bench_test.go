package loki

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang/snappy"

	"github.com/sluice-log/sluice/internal/record"
)

type discardSink struct{}

func (discardSink) Ingest(context.Context, []record.Record) error { return nil }

// benchPush is a Promtail-like batch: 10 streams of 100 entries, a few
// with structured metadata.
func benchPush() (proto, js []byte) {
	var streams [][]byte
	var jb bytes.Buffer
	jb.WriteString(`{"streams":[`)
	for s := range 10 {
		labels := fmt.Sprintf(`{job="varlogs", host="node-%d", filename="/var/log/app-%d.log"}`, s, s)
		if s > 0 {
			jb.WriteByte(',')
		}
		fmt.Fprintf(&jb, `{"stream":{"job":"varlogs","host":"node-%d","filename":"/var/log/app-%d.log"},"values":[`, s, s)
		var entries [][]byte
		for i := range 100 {
			ts := time.Unix(1_750_000_000, int64(s*100+i))
			line := fmt.Sprintf(`level=info ts=2025-06-15T10:00:00Z caller=server.go:%d msg="request served" path=/api/v1/items/%d duration=%dms`, i, i, i%50)
			entries = append(entries, pbEntry(ts, line, "trace_id", fmt.Sprintf("%032x", i)))
			if i > 0 {
				jb.WriteByte(',')
			}
			fmt.Fprintf(&jb, `["%d",%q,{"trace_id":"%032x"}]`, ts.UnixNano(), line, i)
		}
		jb.WriteString("]}")
		streams = append(streams, pbStream(labels, entries...))
	}
	jb.WriteString("]}")
	return snappy.Encode(nil, pbPush(streams...)), jb.Bytes()
}

func benchHandler(b *testing.B, ct string, body []byte) {
	h := NewHandler(discardSink{}, DefaultConfig(), nil, nil)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, "/loki/api/v1/push", bytes.NewReader(body))
		r.Header.Set("Content-Type", ct)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusNoContent {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkPushProtobuf measures snappy, protobuf decoding, label parsing
// and record building of 1000-entry pushes (the sink discards).
func BenchmarkPushProtobuf(b *testing.B) {
	proto, _ := benchPush()
	benchHandler(b, "application/x-protobuf", proto)
}

// BenchmarkPushJSON does the same for JSON pushes.
func BenchmarkPushJSON(b *testing.B) {
	_, js := benchPush()
	benchHandler(b, "application/json", js)
}
