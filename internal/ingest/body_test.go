package ingest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

func gzipped(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zstded(t testing.TB, b []byte) []byte {
	t.Helper()
	zw, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer zw.Close()
	return zw.EncodeAll(b, nil)
}

func TestOpenBody(t *testing.T) {
	plain := []byte(strings.Repeat("hello world\n", 100))
	big := bytes.Repeat([]byte("a"), 2000)
	tests := []struct {
		name       string
		encoding   string
		body       []byte
		limit      int64
		wantOpen   int // status from OpenBody, 0 when it succeeds
		wantRead   int // status from reading, 0 when it succeeds
		wantPrefix string
	}{
		{name: "identity", body: plain, limit: 10000},
		{name: "explicit identity", encoding: "identity", body: plain, limit: 10000},
		{name: "gzip", encoding: "gzip", body: gzipped(t, plain), limit: 10000},
		{name: "gzip any case", encoding: " GZip ", body: gzipped(t, plain), limit: 10000},
		{name: "zstd", encoding: "zstd", body: zstded(t, plain), limit: 10000},
		{name: "exactly the limit", body: plain, limit: int64(len(plain))},
		{name: "unsupported", encoding: "br", body: plain, limit: 10000, wantOpen: 415, wantPrefix: "unsupported"},
		{name: "too large", body: big, limit: 1000, wantOpen: 413},
		{name: "too large after gunzip", encoding: "gzip", body: gzipped(t, big), limit: 1000, wantRead: 413},
		{name: "too large after zstd", encoding: "zstd", body: zstded(t, big), limit: 1000, wantRead: 413},
		{name: "not gzip", encoding: "gzip", body: plain, limit: 10000, wantOpen: 400},
		{name: "empty gzip", encoding: "gzip", body: nil, limit: 10000, wantOpen: 400},
		{name: "truncated gzip", encoding: "gzip", body: gzipped(t, plain)[:30], limit: 10000, wantRead: 400},
		{name: "not zstd", encoding: "zstd", body: plain, limit: 10000, wantRead: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(tt.body))
			if tt.encoding != "" {
				r.Header.Set("Content-Encoding", tt.encoding)
			}
			body, err := OpenBody(r, tt.limit)
			if tt.wantOpen != 0 {
				if err == nil || RequestStatus(err) != tt.wantOpen {
					t.Fatalf("OpenBody error = %v (status %d), want status %d", err, RequestStatus(err), tt.wantOpen)
				}
				if !strings.Contains(err.Error(), tt.wantPrefix) {
					t.Errorf("error %q does not mention %q", err, tt.wantPrefix)
				}
				return
			}
			if err != nil {
				t.Fatalf("OpenBody: %v", err)
			}
			defer body.Close()
			got, err := io.ReadAll(body)
			if tt.wantRead != 0 {
				if err == nil || RequestStatus(err) != tt.wantRead {
					t.Fatalf("read error = %v (status %d), want status %d", err, RequestStatus(err), tt.wantRead)
				}
				return
			}
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if !bytes.Equal(got, plain) {
				t.Errorf("read %d bytes, want the %d plain bytes", len(got), len(plain))
			}
		})
	}
}

// TestOpenBodyNoContentLength checks the limit on a body of unknown length.
func TestOpenBodyNoContentLength(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/", io.MultiReader(strings.NewReader(strings.Repeat("a", 2000))))
	r.ContentLength = -1
	body, err := OpenBody(r, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(body); RequestStatus(err) != http.StatusRequestEntityTooLarge {
		t.Fatalf("read error = %v, want 413", err)
	}
}
