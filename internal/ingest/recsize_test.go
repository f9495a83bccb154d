package ingest

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// TestRecordsSizer: the records slice is sized from the body parsed
// before, never more than twice its records, and not at all without both
// sizes; a compressed body from the last one in its encoding, at records
// per byte sent, and never above what max_request_bytes holds at the last
// body's records per decoded byte.
func TestRecordsSizer(t *testing.T) {
	type parsed struct {
		enc         string
		wire        int64 // Content-Length; -1 unknown
		recs        int
		decodedSize int64
	}
	for _, tc := range []struct {
		name     string
		before   []parsed
		enc      string
		size     int64
		maxBytes int64
		want     int
	}{
		{"first request", nil, "", 3000, 0, 0},
		{"size unknown", []parsed{{"", 3000, 10, 3000}}, "", -1, 0, 0},
		{"same size", []parsed{{"", 3000, 10, 3000}}, "", 3000, 0, 11},
		{"half the size", []parsed{{"", 3000, 10, 3000}}, "", 1500, 0, 6},
		{"much larger", []parsed{{"", 3000, 10, 3000}}, "", 300000, 0, 20},
		{"identity is none", []parsed{{"", 3000, 10, 3000}}, "identity", 3000, 0, 11},
		{"gzip, first", nil, "gzip", 300, 0, 0},
		{"gzip after plain", []parsed{{"", 3000, 10, 3000}}, "gzip", 300, 0, 0},
		{"gzip after gzip", []parsed{{"gzip", 300, 10, 3000}}, "gzip", 300, 0, 11},
		{"GZIP after gzip", []parsed{{"gzip", 300, 10, 3000}}, "GZIP", 150, 0, 6},
		{"gzip of unknown length", []parsed{{"gzip", 300, 10, 3000}}, "gzip", -1, 0, 0},
		{"gzip after gzip of unknown length", []parsed{{"gzip", -1, 10, 3000}}, "gzip", 300, 0, 0},
		{"zstd after gzip", []parsed{{"gzip", 300, 10, 3000}}, "zstd", 300, 0, 0},
		{"gzip after gzip, then plain", []parsed{{"gzip", 300, 10, 3000}, {"", 6000, 10, 6000}}, "gzip", 300, 0, 11},
		{"gzip much larger", []parsed{{"gzip", 300, 10, 3000}}, "gzip", 30000, 0, 20},
		{"gzip bounded by max bytes", []parsed{{"gzip", 300, 10, 3000}}, "gzip", 300, 1500, 6},
		// A Content-Length that OpenBody does not bound (a compressed
		// body's) must not overflow the estimate into a negative capacity.
		{"gzip of a huge declared length", []parsed{{"gzip", 300, 10, 3000}}, "gzip", 1 << 62, 0, 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s RecordsSizer
			for _, p := range tc.before {
				r := httptest.NewRequest("POST", "/insert/jsonline", strings.NewReader(""))
				r.ContentLength = p.wire
				r.Header.Set("Content-Encoding", p.enc)
				s.Expect(r, 0)
				s.Done(p.recs, p.decodedSize)
			}
			r := httptest.NewRequest("POST", "/insert/jsonline", strings.NewReader(""))
			r.ContentLength = tc.size
			r.Header.Set("Content-Encoding", tc.enc)
			s.Expect(r, tc.maxBytes)
			if got := s.Cap(); got != tc.want {
				t.Errorf("Cap() = %d, want %d", got, tc.want)
			}
			if got := cap(s.Records()); got != tc.want {
				t.Errorf("cap(Records()) = %d, want %d", got, tc.want)
			}
		})
	}
}
