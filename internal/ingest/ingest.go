// Package ingest holds what every receiver shares: the Sink that receivers
// hand records to, and the errors that carry the acknowledgement contract
// back to the client. One sub-package per protocol lives below it.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sluice-log/sluice/internal/record"
)

// Sink takes records from receivers. Ingest returns nil only once every
// record is durable (in the write-ahead log or its equivalent): only then may
// a receiver acknowledge its client.
type Sink interface {
	Ingest(ctx context.Context, recs []record.Record) error
}

// BackpressureError says that the buffer is full: the client should retry
// after RetryAfter. Receivers answer HTTP 429 with a Retry-After header, stop
// acknowledging, or stop reading.
type BackpressureError struct {
	RetryAfter time.Duration
	Reason     string
}

func (e *BackpressureError) Error() string {
	return fmt.Sprintf("backpressure: %s; retry after %s", e.Reason, e.RetryAfter)
}

// IsBackpressure reports whether err (or an error it wraps) is a
// BackpressureError, and returns it.
func IsBackpressure(err error) (*BackpressureError, bool) {
	var bp *BackpressureError
	ok := errors.As(err, &bp)
	return bp, ok
}

// Observer sees every batch of records once its sink made it durable
// (metrics from logs, flow checks). It runs on the request's goroutine
// after the acknowledgement is decided and must not block.
type Observer interface {
	Observe(recs []record.Record)
}

// Observed is next, with obs called on every batch next accepted.
func Observed(next Sink, obs ...Observer) Sink {
	if len(obs) == 0 {
		return next
	}
	return observed{next, obs}
}

type observed struct {
	next Sink
	obs  []Observer
}

func (o observed) Ingest(ctx context.Context, recs []record.Record) error {
	if err := o.next.Ingest(ctx, recs); err != nil {
		return err
	}
	for _, ob := range o.obs {
		ob.Observe(recs)
	}
	return nil
}
