package ingest

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestSinkFailure(t *testing.T) {
	tests := []struct {
		err        error
		status     int
		retryAfter int
	}{
		{&BackpressureError{RetryAfter: 2500 * time.Millisecond}, 429, 3},
		{fmt.Errorf("ingest: %w", &BackpressureError{RetryAfter: 10 * time.Millisecond}), 429, 1},
		{&BackpressureError{}, 429, 1},
		{&BackpressureError{RetryAfter: 5 * time.Second}, 429, 5},
		{errors.New("disk full"), 503, 0},
	}
	for _, tt := range tests {
		status, ra := SinkFailure(tt.err)
		if status != tt.status || ra != tt.retryAfter {
			t.Errorf("SinkFailure(%v) = %d, %d; want %d, %d", tt.err, status, ra, tt.status, tt.retryAfter)
		}
	}
}
