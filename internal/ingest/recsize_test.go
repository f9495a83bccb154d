package ingest

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// TestRecordsSizer: the records slice is sized from the body parsed
// before, never more than twice its records, and not at all without both
// sizes.
func TestRecordsSizer(t *testing.T) {
	for _, tc := range []struct {
		name                string
		size, last, lastLen int64
		want                int
	}{
		{"first request", 3000, 0, 0, 0},
		{"size unknown", 0, 10, 3000, 0},
		{"size unknown (-1)", -1, 10, 3000, 0},
		{"same size", 3000, 10, 3000, 11},
		{"half the size", 1500, 10, 3000, 6},
		{"much larger", 300000, 10, 3000, 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s RecordsSizer
			s.Done(int(tc.last), tc.lastLen)
			s.Expect(tc.size)
			if got := s.Cap(); got != tc.want {
				t.Errorf("Cap() = %d, want %d", got, tc.want)
			}
			if got := cap(s.Records()); got != tc.want {
				t.Errorf("cap(Records()) = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestBodySize: only an uncompressed body's Content-Length says its size.
func TestBodySize(t *testing.T) {
	r := httptest.NewRequest("POST", "/insert/jsonline", strings.NewReader("0123456789"))
	if got := BodySize(r); got != 10 {
		t.Errorf("BodySize = %d, want 10", got)
	}
	r.Header.Set("Content-Encoding", "gzip")
	if got := BodySize(r); got != 0 {
		t.Errorf("BodySize of a gzip body = %d, want 0", got)
	}
}
