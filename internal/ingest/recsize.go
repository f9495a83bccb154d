package ingest

import (
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
// records per decoded byte. A compressed one (gzip, zstd: what Filebeat
// and Fluent Bit send) says its decoded size only at its end, if at all
// (gzip's trailer), so it is sized by its Content-Length at the records
// per compressed byte of the last body in the same encoding, and never
// above what the request's decoded bound (max_request_bytes) holds at the
// last body's records per decoded byte.
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
	maxBytes int64  // bound on its decoded bytes
}

// Expect notes the body of r about to be parsed, which decodes to at most
// maxBytes (DefaultMaxRequestBytes when not positive; OpenBody's bound).
func (s *RecordsSizer) Expect(r *http.Request, maxBytes int64) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxRequestBytes
	}
	s.next = body{size: r.ContentLength, enc: encoding(r), maxBytes: maxBytes}
}

// Records returns an empty records slice with the capacity Cap gives.
func (s *RecordsSizer) Records() []record.Record {
	return make([]record.Record, 0, s.Cap())
}

// Cap is the capacity for the body Expect noted: 0 when its size is
// unknown, or nothing parsed before says how many records it holds.
func (s *RecordsSizer) Cap() int {
	b := s.next
	if b.size <= 0 || s.lastRecs == 0 || s.lastBytes <= 0 {
		return 0
	}
	// OpenBody bounds an uncompressed body's Content-Length by maxBytes,
	// not a compressed one's, which a client may declare as large as it
	// likes: a larger one would overflow the products below into a
	// negative capacity. Above maxBytes the bound below applies anyway.
	b.size = min(b.size, b.maxBytes)
	n, most := b.size*int64(s.lastRecs)/s.lastBytes, 2*int64(s.lastRecs)
	if b.enc != "" {
		if b.enc != s.zEnc || s.zWire <= 0 {
			return 0
		}
		n, most = b.size*int64(s.zRecs)/s.zWire, 2*int64(s.zRecs)
	}
	most = min(most, b.maxBytes*int64(s.lastRecs)/s.lastBytes+1)
	return int(min(n+n/16+1, most))
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
