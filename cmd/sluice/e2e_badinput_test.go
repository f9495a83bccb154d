package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"strings"
	"testing"
)

// TestE2EBadInput sends each kind of bad input the issue lists and checks the
// documented answer: a clear error for that request or item, the valid
// records of the same request stored, and never a 5xx.
// hugeZstdHeader is a zstd frame header (single segment) whose content
// size is 2^64-1.
const hugeZstdHeader = "\x28\xb5\x2f\xfd\xe0\xff\xff\xff\xff\xff\xff\xff\xff"

func TestE2EBadInput(t *testing.T) {
	needBinary(t)
	t.Parallel()
	s := startServer(t, t.TempDir(), "ingest:\n  max_line_bytes: 1KiB\n")
	long := `{"service":"bad","_msg":"` + strings.Repeat("x", 2000) + `"}`
	tests := []struct {
		name, path, contentType, encoding, body string
		wantCode                                int
		wantInAnswer                            string
	}{
		{"invalid JSON line among valid ones", "/insert/jsonline", "application/x-ndjson", "",
			`{"service":"bad","_msg":"ok one"}` + "\n{not json\n" + `{"service":"bad","_msg":"ok two"}`, 200, `"rejected":1`},
		{"line over the size limit", "/insert/jsonline", "application/x-ndjson", "",
			long + "\n" + `{"service":"bad","_msg":"ok three"}`, 200, `"line":1`},
		{"time in an unknown format", "/insert/jsonline", "application/x-ndjson", "",
			`{"service":"bad","_time":"yesterday-ish","_msg":"x"}` + "\n" + `{"service":"bad","_msg":"ok four"}`, 200, "yesterday-ish"},
		{"every line invalid", "/insert/jsonline", "application/x-ndjson", "", "[1,2]\n\"str\"\n", 400, `"accepted":0`},
		{"wrong Content-Encoding", "/insert/jsonline", "application/x-ndjson", "br", `{"_msg":"x"}`, 415, "gzip"},
		{"broken gzip body", "/insert/jsonline", "application/x-ndjson", "gzip", "not gzip at all", 400, ""},
		// A zstd frame header declaring 2^64-1 decoded bytes, and nothing
		// after it: the records slice is sized within max_request_bytes.
		{"zstd header declaring 2^64-1 bytes", "/insert/jsonline", "application/x-ndjson", "zstd", hugeZstdHeader, 400, "zstd"},
		{"zstd header declaring 2^64-1 bytes to _bulk", "/_bulk", "application/x-ndjson", "zstd", hugeZstdHeader, 400, "zstd"},
		{"unknown _bulk action", "/_bulk", "application/x-ndjson", "",
			`{"frobnicate":{"_index":"x"}}` + "\n" + `{"message":"never"}` + "\n" + `{"index":{"_index":"x"}}` + "\n" + `{"service":{"name":"bad"},"message":"ok five"}` + "\n", 200, `"errors":true`},
		{"malformed _bulk action line", "/_bulk", "application/x-ndjson", "", "{oops\n{}\n", 400, "illegal_argument_exception"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hdr []string
			if tt.encoding != "" {
				hdr = []string{"Content-Encoding", tt.encoding}
			}
			code, ans, _ := s.post(tt.path, tt.contentType, []byte(tt.body), hdr...)
			if code != tt.wantCode || !strings.Contains(ans, tt.wantInAnswer) {
				t.Errorf("got %d %s; want %d containing %q", code, ans, tt.wantCode, tt.wantInAnswer)
			}
			if code >= 500 {
				t.Errorf("bad input answered %d", code)
			}
		})
	}
	// A valid gzip body is accepted.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(`{"service":"bad","_msg":"ok six"}` + "\n"))
	_ = zw.Close()
	if code, ans, _ := s.post("/insert/jsonline", "application/x-ndjson", gz.Bytes(), "Content-Encoding", "gzip"); code != 200 {
		t.Errorf("gzip body: %d %s", code, ans)
	}
	// Exactly the six valid records were stored (five by service label, the
	// bulk one under service.name).
	rows := s.queryRows(`ok | stats count() as n`)
	if len(rows) != 1 || rows[0]["n"].(float64) != 6 {
		b, _ := json.Marshal(rows)
		t.Errorf("valid records stored: %s, want n=6", b)
	}
	s.stop()
}
