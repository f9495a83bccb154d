package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/sluice-log/sluice/internal/ingest"
)

// defaultHeadWait is how long Ingest waits for room in the head before it
// answers with backpressure.
const defaultHeadWait = 10 * time.Second

// waitForHeadRoom holds an ingest request back while the store's in-memory
// head holds MaxHeadBytes or more, until a flush frees it. Records are
// durable in the WAL before they reach the head, so without this bound the
// head (and with it the process's memory) grows with the data whenever
// ingest outruns flushing: one flush at a time seals a frozen head while
// the next one keeps filling. Waiting here, before the WAL append, slows
// receivers down instead of refusing them; only a flush that takes longer
// than HeadWait (a stuck disk) turns into a BackpressureError.
func (p *Pipeline) waitForHeadRoom(ctx context.Context) error {
	if p.opts.MaxHeadBytes <= 0 || p.store.HeadBytes() < p.opts.MaxHeadBytes {
		return nil
	}
	start := time.Now()
	defer func() { p.m.headWaitSeconds.Add(time.Since(start).Seconds()) }()
	p.m.headWaits.Inc()
	timeout := time.NewTimer(p.opts.HeadWait)
	defer timeout.Stop()
	for {
		// Take the signal before the check, so that a flush finishing in
		// between is not missed.
		flushed := p.flushedSignal()
		if p.store.HeadBytes() < p.opts.MaxHeadBytes {
			return nil
		}
		p.kickFlush()
		select {
		case <-flushed:
		case <-ctx.Done():
			return fmt.Errorf("wait for the store to flush its in-memory head: %w", ctx.Err())
		case <-p.stop:
			return fmt.Errorf("ingest unavailable: server is shutting down")
		case <-timeout.C:
			p.m.backpressure.Inc()
			p.backpressureTotal.Add(1)
			return &ingest.BackpressureError{RetryAfter: p.opts.RetryAfter,
				Reason: fmt.Sprintf("records in memory (%d bytes) are at their bound of %d bytes and the store is still flushing them", p.store.HeadBytes(), p.opts.MaxHeadBytes)}
		}
	}
}

// flushedSignal returns a channel closed when the next flush attempt ends.
func (p *Pipeline) flushedSignal() <-chan struct{} {
	p.flushedMu.Lock()
	defer p.flushedMu.Unlock()
	return p.flushed
}

// signalFlushed wakes the requests waiting for head room.
func (p *Pipeline) signalFlushed() {
	p.flushedMu.Lock()
	defer p.flushedMu.Unlock()
	close(p.flushed)
	p.flushed = make(chan struct{})
}
