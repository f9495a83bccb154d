package ingest

import (
	"net/http"
	"time"
)

// SinkFailure maps an error from Sink.Ingest to the status to answer and,
// for backpressure, the Retry-After seconds (0 otherwise). Backpressure is
// 429 so that clients retry later; anything else is 503, since the records
// were fine and a retry may well succeed.
func SinkFailure(err error) (status, retryAfter int) {
	if bp, ok := IsBackpressure(err); ok {
		return http.StatusTooManyRequests, RetryAfterSeconds(bp.RetryAfter)
	}
	return http.StatusServiceUnavailable, 0
}

// RetryAfterSeconds rounds d up to whole seconds, at least one, as the
// Retry-After header wants them.
func RetryAfterSeconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	return max(s, 1)
}
