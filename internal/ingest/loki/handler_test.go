package loki

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"

	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/tenant"
)

type memSink struct {
	mu   sync.Mutex
	recs []record.Record
	err  error
}

func (s *memSink) Ingest(_ context.Context, recs []record.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.recs = append(s.recs, recs...)
	return nil
}

func push(t *testing.T, h http.Handler, ct, enc string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/loki/api/v1/push", bytes.NewReader(body))
	r.Header.Set("Content-Type", ct)
	r = r.WithContext(tenant.With(r.Context(), "team-a"))
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

func TestHandlerAccepts(t *testing.T) {
	sink := &memSink{}
	h := NewHandler(sink, DefaultConfig(), nil, nil)
	proto := snappy.Encode(nil, pbPush(pbStream(`{job="api"}`, pbEntry(ts1, "from protobuf", "k", "v"))))
	js := []byte(`{"streams":[{"stream":{"job":"api"},"values":[["1750000000000000123","from json"]]}]}`)
	for _, tc := range []struct {
		name, ct, enc string
		body          []byte
	}{
		{"protobuf", "application/x-protobuf", "", proto},
		{"protobuf without content type", "", "", proto},
		{"json", "application/json; charset=utf-8", "", js},
		{"json gzip", "application/json", "gzip", gz(js)},
	} {
		w := push(t, h, tc.ct, tc.enc, tc.body)
		if w.Code != http.StatusNoContent {
			t.Fatalf("%s: status %d: %s", tc.name, w.Code, w.Body)
		}
	}
	if len(sink.recs) != 4 {
		t.Fatalf("stored %d records", len(sink.recs))
	}
	for _, r := range sink.recs {
		if r.Tenant != "team-a" || r.StreamString() != `{job="api"}` {
			t.Fatalf("record %+v", r)
		}
	}
	if v, _ := sink.recs[0].Get("k"); v != "v" || sink.recs[0].Message != "from protobuf" {
		t.Fatalf("record %+v", sink.recs[0])
	}
}

func TestHandlerErrors(t *testing.T) {
	valid := snappy.Encode(nil, pbPush(pbStream(`{job="api"}`, pbEntry(ts1, "x"))))
	partial := snappy.Encode(nil, pbPush(pbStream(`{job="api"}`, pbEntry(ts1, "x")), pbStream(`{job=`, pbEntry(ts1, "y"))))
	big := snappy.Encode(nil, pbPush(pbStream(`{job="api"}`, pbEntry(ts1, strings.Repeat("x", 2000)))))
	bp := &ingest.BackpressureError{RetryAfter: 3 * time.Second, Reason: "wal full"}
	for _, tc := range []struct {
		name, ct, enc string
		body          []byte
		sinkErr       error
		status        int
		retryAfter    string
		msg           string
		stored        int
	}{
		{"not snappy", "application/x-protobuf", "", []byte("\xff\xff\xff\xff\xff\xff"), nil, 400, "", "snappy", 0},
		{"framed snappy", "application/x-protobuf", "", []byte("\xff\x06\x00\x00sNaPpY"), nil, 400, "", "snappy", 0},
		{"snappy of garbage", "application/x-protobuf", "", snappy.Encode(nil, []byte{0x0a, 0xff}), nil, 400, "", "invalid protobuf", 0},
		{"bad json", "application/json", "", []byte(`{"streams":`), nil, 400, "", "invalid JSON", 0},
		{"bad gzip", "application/json", "gzip", []byte("no"), nil, 400, "", "gzip", 0},
		{"too large decoded", "application/x-protobuf", "", big, nil, 413, "", "limit is 1024", 0},
		{"some entries rejected", "application/x-protobuf", "", partial, nil, 400, "", "1 entries rejected, 1 stored", 1},
		{"backpressure", "application/x-protobuf", "", valid, bp, 429, "3", "wal full", 0},
		{"sink failure", "application/x-protobuf", "", valid, context.Canceled, 503, "", "canceled", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink := &memSink{err: tc.sinkErr}
			w := push(t, NewHandler(sink, Config{MaxMessageBytes: 1024}, nil, nil), tc.ct, tc.enc, tc.body)
			if w.Code != tc.status || w.Header().Get("Retry-After") != tc.retryAfter {
				t.Fatalf("status %d Retry-After %q: %s", w.Code, w.Header().Get("Retry-After"), w.Body)
			}
			if !strings.Contains(w.Body.String(), tc.msg) || len(sink.recs) != tc.stored {
				t.Fatalf("answer %q (want %q), stored %d", w.Body, tc.msg, len(sink.recs))
			}
		})
	}
}

// TestHandlerTimeWindow: an entry outside the window is rejected on its
// own, with its reason in the answer; the rest are stored.
func TestHandlerTimeWindow(t *testing.T) {
	sink := &memSink{}
	now := time.Now()
	body := snappy.Encode(nil, pbPush(pbStream(`{job="api"}`, pbEntry(now, "now"), pbEntry(now.Add(72*time.Hour), "ahead"))))
	cfg := DefaultConfig()
	cfg.Window = ingest.NewTimeWindow(ingest.WindowConfig{MaxFuture: 48 * time.Hour}, nil)
	w := push(t, NewHandler(sink, cfg, nil, nil), "application/x-protobuf", "", body)
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "1 entries rejected, 1 stored; first error: time too far in the future: ") {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if len(sink.recs) != 1 || sink.recs[0].Message != "now" {
		t.Fatalf("stored %v", sink.recs)
	}
}
