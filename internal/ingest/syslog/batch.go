package syslog

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/record"
)

// Bounds of the wait between retries of a batch the sink pushed back on.
const (
	minRetry = 10 * time.Millisecond
	maxRetry = time.Second
)

// batcher gathers chunks of records from producers (a connection's reader,
// or every UDP reader) and hands them to the sink in batches. While the
// sink pushes back it retries the same batch and takes nothing new, so
// producers block (TCP: the kernel's window pushes back on the sender) or
// drop (UDP).
type batcher struct {
	sink ingest.Sink
	cfg  Config
	m    *Metrics
	log  *slog.Logger
	in   chan []record.Record
	done chan struct{} // closed when run returns
}

func newBatcher(sink ingest.Sink, cfg Config, m *Metrics, log *slog.Logger, queue int) *batcher {
	return &batcher{sink: sink, cfg: cfg, m: m, log: log,
		in: make(chan []record.Record, queue), done: make(chan struct{})}
}

// send hands a chunk over, waiting while the batcher is busy; false means
// the batcher has stopped after a sink failure.
func (b *batcher) send(chunk []record.Record) bool {
	select {
	case b.in <- chunk:
		return true
	case <-b.done:
		return false
	}
}

// offer hands a chunk over if there is room, without waiting.
func (b *batcher) offer(chunk []record.Record) bool {
	select {
	case b.in <- chunk:
		return true
	default:
		return false
	}
}

// run batches until in is closed and everything is flushed, or until the
// sink fails with something other than backpressure (then the batch is
// dropped, counted, and the error returned). ctx bounds the retries.
func (b *batcher) run(ctx context.Context) error {
	defer close(b.done)
	var batch []record.Record
	// held is the batch's share of ingest.max_in_flight_bytes: while it
	// cannot grow, the batch goes out first; while none is to be had,
	// the batcher waits and its producers block (or, UDP, drop).
	var held *ingest.Batch
	defer func() { held.Release() }()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	flush := func() error {
		err := b.flush(ctx, batch)
		held.Release()
		// The sink may keep the slice (the store's head, live tail), so
		// every batch gets a new one.
		batch, held = nil, nil
		return err
	}
	for {
		select {
		case chunk, ok := <-b.in:
			if !ok {
				return flush()
			}
			n := chunkBytes(chunk)
			if len(batch) > 0 && !held.TryGrow(n) {
				timer.Stop()
				if err := flush(); err != nil {
					return err
				}
			}
			if len(batch) == 0 {
				var err error
				if held, err = b.cfg.InFlight.Acquire(ctx, protocol, n); err != nil {
					b.m.rejected(reasonSink, len(chunk))
					return fmt.Errorf("drop %d syslog records: %w", len(chunk), err)
				}
				timer.Reset(b.cfg.BatchDelay)
			}
			batch = append(batch, chunk...)
			if len(batch) < b.cfg.BatchRecords {
				continue
			}
			timer.Stop()
		case <-timer.C:
		}
		if err := flush(); err != nil {
			return err
		}
	}
}

// chunkBytes is what a chunk's records take, for the bytes in flight.
func chunkBytes(chunk []record.Record) int64 {
	var n int64
	for i := range chunk {
		n += int64(chunk[i].Size())
	}
	return n
}

// flush hands batch to the sink, retrying while it pushes back.
func (b *batcher) flush(ctx context.Context, batch []record.Record) error {
	if len(batch) == 0 {
		return nil
	}
	for {
		err := b.sink.Ingest(ctx, batch)
		if err == nil {
			b.m.records(len(batch))
			return nil
		}
		bp, ok := ingest.IsBackpressure(err)
		if !ok {
			b.m.rejected(reasonSink, len(batch))
			return fmt.Errorf("ingest %d syslog records: %w", len(batch), err)
		}
		wait := min(max(bp.RetryAfter, minRetry), maxRetry)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			b.m.rejected(reasonSink, len(batch))
			return fmt.Errorf("drop %d syslog records still pushed back at shutdown: %w", len(batch), err)
		}
	}
}

// drainContext returns a context that ends timeout after parent does, for
// the flushes that must still happen after Serve's context is cancelled.
func drainContext(parent context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	stop := context.AfterFunc(parent, func() {
		t := time.AfterFunc(timeout, cancel)
		context.AfterFunc(ctx, func() { t.Stop() })
	})
	return ctx, func() { stop(); cancel() }
}
