package ingest

import (
	"bytes"
	"io"
	"math/big"
	"net/http"
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
				s.Expect(r, nil, 0)
				s.Done(p.recs, p.decodedSize)
			}
			r := httptest.NewRequest("POST", "/insert/jsonline", strings.NewReader(""))
			r.ContentLength = tc.size
			r.Header.Set("Content-Encoding", tc.enc)
			s.Expect(r, nil, tc.maxBytes)
			if got := s.Cap(); got != tc.want {
				t.Errorf("Cap() = %d, want %d", got, tc.want)
			}
			if got := cap(s.Records()); got != tc.want {
				t.Errorf("cap(Records()) = %d, want %d", got, tc.want)
			}
		})
	}
}

// zstdHeader is a zstd frame header: magic, the descriptor fhd, then
// rest (window descriptor, dictionary id, content size as fhd says).
func zstdHeader(fhd byte, rest ...byte) []byte {
	return append([]byte{0x28, 0xb5, 0x2f, 0xfd, fhd}, rest...)
}

// hostileZstdHeaders are frame headers a client may craft: content sizes
// up to 2^64-1, the longest header there is, and headers that declare
// nothing or are not headers.
var hostileZstdHeaders = []struct {
	name string
	head []byte
	want int64 // zstdContentSize with maxBytes 1 MiB
}{
	{"8-byte size 2^64-1", zstdHeader(0xe0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), 1 << 20},
	{"8-byte size 2^63", zstdHeader(0xe0, 0, 0, 0, 0, 0, 0, 0, 0x80), 1 << 20},
	{"4-byte size 2^32-1", zstdHeader(0xa0, 0xff, 0xff, 0xff, 0xff), 1 << 20},
	{"2-byte size", zstdHeader(0x60, 0x10, 0x00), 256 + 16},
	{"1-byte size", zstdHeader(0x20, 200), 200},
	{"size 0", zstdHeader(0x20, 0), 0},
	{"window, dictionary id and 8-byte size: the longest header", zstdHeader(0xc3, 0x50, 1, 2, 3, 4, 0x00, 0x10, 0, 0, 0, 0, 0, 0), 4096},
	{"no content size", zstdHeader(0x00, 0x50), -1},
	{"reserved bit set", zstdHeader(0x28, 5), -1},
	{"truncated size", zstdHeader(0xe0, 0xff, 0xff, 0xff), -1},
	{"magic alone", zstdHeader(0xe0)[:4], -1},
	{"skippable frame", []byte{0x50, 0x2a, 0x4d, 0x18, 0xff, 0xff, 0xff, 0xff}, -1},
	{"not zstd", []byte(`{"_msg":"x"}`), -1},
	{"empty", nil, -1},
}

// TestZstdContentSize: a zstd frame's declared content size is read from
// its header and never above the body's bound, whatever the header says.
func TestZstdContentSize(t *testing.T) {
	if got := len(zstdHeader(0xc3, make([]byte, 13)...)); got != zstdHeaderPeek {
		t.Fatalf("the longest frame header is %d bytes, zstdHeaderPeek %d", got, zstdHeaderPeek)
	}
	for _, tc := range hostileZstdHeaders {
		if got := zstdContentSize(tc.head, 1<<20); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

// rawZstdFrame is a zstd frame that declares no content size, of one raw
// block holding data (at most 128 KiB).
func rawZstdFrame(data []byte) []byte {
	bh := 1 | len(data)<<3 // last block, raw
	return append(zstdHeader(0x00, 0x50, byte(bh), byte(bh>>8), byte(bh>>16)), data...)
}

// openZstd opens body as a zstd request body bounded by maxBytes.
func openZstd(t testing.TB, body []byte, maxBytes int64) (*http.Request, io.ReadCloser) {
	t.Helper()
	r := httptest.NewRequest("POST", "/insert/jsonline", bytes.NewReader(body))
	r.Header.Set("Content-Encoding", "zstd")
	b, err := OpenBody(r, maxBytes)
	if err != nil {
		t.Fatal(err)
	}
	return r, b
}

// TestRecordsSizerZstd: a zstd body whose frame header declares its
// content size is sized by it, at the last body's records per decoded
// byte, as an uncompressed body by its Content-Length; one that declares
// none by its length sent, as gzip; a hostile declared size reserves no
// more than max_request_bytes holds. Peeking at the header loses nothing
// of the body.
func TestRecordsSizerZstd(t *testing.T) {
	plain := []byte(strings.Repeat("0123456789abcdefghijklmnopqrstuvwxyz\n", 1000)) // 37,000 bytes
	const bound = 1 << 20
	for _, tc := range []struct {
		name     string
		body     []byte
		maxBytes int64
		declared int64
		want     int
	}{
		// The last body: 100 records in 3,700 bytes, 10 records in
		// the 1,000 bytes of the last zstd body.
		{"declared, the same size", zstded(t, plain[:3700]), bound, 3700, 100 + 100/16 + 1},
		{"declared, ten times the size", zstded(t, plain[:37000]), bound, 37000, 2 * 100},
		{"declared, half the size", zstded(t, plain[:1850]), bound, 1850, 50 + 50/16 + 1},
		{"two frames: the first one's", append(zstded(t, plain[:1850]), zstded(t, plain[1850:3700])...), bound, 1850, 50 + 50/16 + 1},
		{"declared, over max bytes", zstded(t, plain[:37000]), 1850, 1850, 50 + 1},
		{"not declared: by its length sent", rawZstdFrame(plain[:370]), bound, -1, 3 + 1},
		{"not declared, larger: by its length sent", rawZstdFrame(plain[:37000]), bound, -1, 2 * 10},
		{"declared 0: by its length sent", zstdHeader(0x20, 0, 1, 0, 0), bound, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s RecordsSizer
			r, b := openZstd(t, zstded(t, plain[:370]), bound)
			r.ContentLength = 1000
			s.Expect(r, b, bound)
			s.Done(10, 370)
			b.Close()
			r = httptest.NewRequest("POST", "/insert/jsonline", bytes.NewReader(plain[:3700]))
			s.Expect(r, nil, bound)
			s.Done(100, 3700)

			r, b = openZstd(t, tc.body, tc.maxBytes)
			defer b.Close()
			if got := DeclaredSize(b); got != tc.declared {
				t.Errorf("DeclaredSize = %d, want %d", got, tc.declared)
			}
			s.Expect(r, b, tc.maxBytes)
			if got := s.Cap(); got != tc.want {
				t.Errorf("Cap() = %d, want %d", got, tc.want)
			}
			if tc.maxBytes != bound {
				return
			}
			got, err := io.ReadAll(b)
			if err != nil || !bytes.HasPrefix(plain, got) || len(got) < int(tc.declared) {
				t.Errorf("read %d bytes (%v), want the body's", len(got), err)
			}
		})
	}
	for _, tc := range hostileZstdHeaders {
		var s RecordsSizer
		r := httptest.NewRequest("POST", "/insert/jsonline", bytes.NewReader(plain[:3700]))
		s.Expect(r, nil, bound)
		s.Done(100, 3700)
		for _, maxBytes := range []int64{1850, bound} {
			r, b := openZstd(t, tc.head, maxBytes)
			s.Expect(r, b, maxBytes)
			// At most twice the last body's records, and what maxBytes
			// holds at its records per decoded byte.
			if got, most := s.Cap(), min(200, int(maxBytes*100/3700)+1); got < 0 || got > most {
				t.Errorf("%s, max_request_bytes %d: Cap() = %d, want at most %d", tc.name, maxBytes, got, most)
			}
			b.Close()
		}
	}
}

// FuzzRecordsSizer: whatever a zstd body's header and a request's
// Content-Length declare, and whatever the bodies before held, the
// capacity is never negative, never more than twice the records of the
// body it is sized from, and never more than what max_request_bytes
// holds at the last body's records per decoded byte.
func FuzzRecordsSizer(f *testing.F) {
	for _, tc := range hostileZstdHeaders {
		f.Add(tc.head, int64(1000), uint32(100), int64(3700), uint32(10), int64(300), int64(1<<20))
	}
	f.Add(zstded(f, []byte(strings.Repeat("x\n", 5000))), int64(-1), uint32(7), int64(1), uint32(1<<31), int64(1), int64(1<<62))
	f.Fuzz(func(t *testing.T, head []byte, wire int64, lastRecs uint32, lastBytes int64, zRecs uint32, zWire int64, maxBytes int64) {
		var s RecordsSizer
		r := httptest.NewRequest("POST", "/insert/jsonline", strings.NewReader(""))
		r.Header.Set("Content-Encoding", "zstd")
		r.ContentLength = zWire
		s.Expect(r, nil, maxBytes)
		s.Done(int(zRecs), lastBytes)
		r = httptest.NewRequest("POST", "/insert/jsonline", strings.NewReader(""))
		s.Expect(r, nil, maxBytes)
		s.Done(int(lastRecs), lastBytes)

		r, b := openZstd(t, head, maxBytes)
		defer b.Close()
		r.ContentLength = wire
		if maxBytes <= 0 {
			maxBytes = DefaultMaxRequestBytes
		}
		if d := DeclaredSize(b); d > maxBytes {
			t.Fatalf("declared %d, over the bound %d", d, maxBytes)
		}
		s.Expect(r, b, maxBytes)
		got := int64(s.Cap())
		if got < 0 || got > 2*int64(max(lastRecs, zRecs)) {
			t.Fatalf("Cap() = %d, last bodies' records %d, %d", got, lastRecs, zRecs)
		}
		if lastBytes > 0 {
			held := new(big.Int).Mul(big.NewInt(maxBytes), big.NewInt(int64(lastRecs)))
			held.Quo(held, big.NewInt(lastBytes))
			if big.NewInt(got-1).Cmp(held) > 0 {
				t.Fatalf("Cap() = %d, over what %d bytes hold at %d records in %d (%s)", got, maxBytes, lastRecs, lastBytes, held)
			}
		}
	})
}
