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
type RecordsSizer struct {
	bodySize  int64 // of the next body, 0 or less when unknown
	lastRecs  int
	lastBytes int64
}

// BodySize is the size of r's body when the request says it (an
// uncompressed body's Content-Length), else 0 or less.
func BodySize(r *http.Request) int64 {
	if r.Header.Get("Content-Encoding") != "" {
		return 0
	}
	return r.ContentLength // -1 when unknown
}

// Expect notes the size of the body about to be parsed (BodySize), 0 or
// less when unknown.
func (s *RecordsSizer) Expect(bodySize int64) { s.bodySize = bodySize }

// Records returns an empty records slice with the capacity Cap gives.
func (s *RecordsSizer) Records() []record.Record {
	return make([]record.Record, 0, s.Cap())
}

// Cap is the capacity for the body Expect noted: 0 when its size or the
// last body's is unknown.
func (s *RecordsSizer) Cap() int {
	if s.bodySize <= 0 || s.lastRecs == 0 || s.lastBytes <= 0 {
		return 0
	}
	n := s.bodySize * int64(s.lastRecs) / s.lastBytes
	return int(min(n+n/16+1, 2*int64(s.lastRecs)))
}

// Done records what the body parsed held: records records in bytes bytes.
func (s *RecordsSizer) Done(records int, bytes int64) {
	s.lastRecs, s.lastBytes = records, bytes
}
