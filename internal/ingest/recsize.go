package ingest

import (
	"io"
	"math"
	"math/bits"
	"net/http"

	"github.com/sluice-log/sluice/internal/record"
)

// RecordsSizer sizes the records slice a receiver collects one request's
// records into, from the body parsed before by the same (pooled) parser:
// as many records as that body had for its size, and a little more; at
// most twice as many, so that a body of small documents after one of
// large ones cannot reserve much. Growing the slice by appending (a
// record is 88 bytes, a request 1,000 to 5,000 of them) allocated about
// four times the final slice, a quarter of the bytes a JSON-lines
// request allocated in all (alloc profile of the server under
// sluice-bench), and each collection of that garbage costs CPU. Not safe
// for concurrent use.
//
// An uncompressed body is sized by its Content-Length at the last body's
// records per decoded byte, and so is a zstd body whose frame header
// declares its content size (DeclaredSize). Another compressed one (gzip,
// zstd: what Filebeat and Fluent Bit send) says its decoded size only at
// its end, if at all (gzip's trailer), so it is sized by its
// Content-Length at the records per compressed byte of the last body in
// the same encoding. Either is never above what the request's decoded
// bound (max_request_bytes) holds at the last body's records per decoded
// byte: a size the client declares, which nothing checks before the body
// is read, reserves no more than one as large as the bound.
type RecordsSizer struct {
	next body // the body about to be parsed (Expect)
	// The last body: its records and decoded bytes.
	lastRecs  int
	lastBytes int64
	// The last compressed body of known length: its records, its bytes as
	// sent and its encoding.
	zRecs int
	zWire int64
	zEnc  string
}

// body is what a request says of its body before it is read.
type body struct {
	size     int64  // Content-Length, 0 or less when unknown
	enc      string // "" when not compressed
	decoded  int64  // the decoded size a compressed body declares, -1 when none
	maxBytes int64  // bound on its decoded bytes
}

// Expect notes the body of r about to be parsed, b as OpenBody returned
// it, which decodes to at most maxBytes (DefaultMaxRequestBytes when not
// positive; OpenBody's bound).
func (s *RecordsSizer) Expect(r *http.Request, b io.Reader, maxBytes int64) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxRequestBytes
	}
	s.next = body{size: r.ContentLength, enc: encoding(r), decoded: DeclaredSize(b), maxBytes: maxBytes}
}

// Records returns an empty records slice with the capacity Cap gives.
func (s *RecordsSizer) Records() []record.Record {
	return make([]record.Record, 0, s.Cap())
}

// Cap is the capacity for the body Expect noted: 0 when its size is
// unknown, or nothing parsed before says how many records it holds.
func (s *RecordsSizer) Cap() int {
	b := s.next
	if s.lastRecs <= 0 || s.lastBytes <= 0 {
		return 0
	}
	lastRecs := int64(s.lastRecs)
	// A size is bounded by maxBytes: OpenBody bounds an uncompressed
	// body's Content-Length by it, but not a compressed one's, which a
	// client may declare as large as it likes (a zstd frame's declared
	// size is bounded already).
	var n, most int64
	switch {
	case b.enc == "" && b.size > 0:
		n, most = scaled(min(b.size, b.maxBytes), lastRecs, s.lastBytes), 2*lastRecs
	case b.enc != "" && b.decoded > 0:
		n, most = scaled(min(b.decoded, b.maxBytes), lastRecs, s.lastBytes), 2*lastRecs
	case b.enc != "" && b.size > 0 && b.enc == s.zEnc && s.zWire > 0:
		n, most = scaled(min(b.size, b.maxBytes), int64(s.zRecs), s.zWire), 2*int64(s.zRecs)
	default:
		return 0
	}
	if held := scaled(b.maxBytes, lastRecs, s.lastBytes); held < most {
		most = held + 1
	}
	n = min(n, most)
	return int(min(n+n/16+1, most))
}

// scaled is size*recs/bytes (none negative, bytes positive), at most
// math.MaxInt64 where the product would overflow.
func scaled(size, recs, bytes int64) int64 {
	hi, lo := bits.Mul64(uint64(size), uint64(recs))
	if hi >= uint64(bytes) {
		return math.MaxInt64
	}
	q, _ := bits.Div64(hi, lo, uint64(bytes))
	return int64(min(q, math.MaxInt64))
}

// Done records what the body Expect noted held: records records in bytes
// decoded bytes.
func (s *RecordsSizer) Done(records int, bytes int64) {
	s.lastRecs, s.lastBytes = records, bytes
	if s.next.enc != "" && s.next.size > 0 {
		s.zRecs, s.zWire, s.zEnc = records, s.next.size, s.next.enc
	}
	s.next = body{}
}
