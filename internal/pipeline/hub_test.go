package pipeline

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/sluice-log/sluice/internal/record"
)

func batchOf(msg string, n int) []record.Record {
	recs := make([]record.Record, n)
	for i := range recs {
		recs[i] = record.Record{Message: msg}
	}
	return recs
}

// A subscriber that does not read is dropped once its bound is passed,
// without publish ever blocking; the others get every batch; what was
// buffered for it is released.
func TestHubDropsSlowSubscriber(t *testing.T) {
	ctx := context.Background()
	h := newHub()
	rec := batchOf(strings.Repeat("m", 100), 1)
	one := int64(rec[0].Size()) + recordOverhead // one record's bytes
	slow := h.subscribe(3 * one)
	fast := h.subscribe(1 << 20)
	for range 5 {
		h.publish(batchOf(strings.Repeat("m", 100), 1)) // never blocks
	}
	select {
	case <-slow.Done():
	default:
		t.Fatal("slow subscriber not dropped past its bound")
	}
	if _, err := slow.Next(ctx); !errors.Is(err, ErrSlowReader) || !strings.Contains(err.Error(), "over its bound of") {
		t.Fatalf("slow subscriber's Next: %v", err)
	}
	if h.dropped.Load() != 1 || h.n.Load() != 1 {
		t.Fatalf("dropped %d, subscribers %d", h.dropped.Load(), h.n.Load())
	}
	if got := h.buffered.Load(); got != 5*one {
		t.Fatalf("buffered %d bytes, want the fast subscriber's %d", got, 5*one)
	}
	for i := range 5 {
		if b, err := fast.Next(ctx); err != nil || len(b) != 1 {
			t.Fatalf("fast subscriber's batch %d: %v %v", i, b, err)
		}
	}
	if h.buffered.Load() != 0 || fast.Buffered() != 0 {
		t.Fatalf("buffered %d bytes after every batch was read", h.buffered.Load())
	}
	slow.Close() // closing a dropped subscription is harmless
	if _, err := slow.Next(ctx); !errors.Is(err, ErrSlowReader) {
		t.Fatalf("Close changed why it ended: %v", err)
	}
}

// Publishers racing past a slow subscriber's bound drop it once: the
// drop counter is what /metrics and the status page report.
func TestHubConcurrentPublishersDropOnce(t *testing.T) {
	for range 50 {
		h := newHub()
		slow := h.subscribe(1)
		h.publish(batchOf("first", 1)) // queued: the next one passes the bound
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() { h.publish(batchOf("racing", 1)) })
		}
		wg.Wait()
		if got := h.dropped.Load(); got != 1 {
			t.Fatalf("one slow subscriber counted as %d drops", got)
		}
		if _, err := slow.Next(context.Background()); !errors.Is(err, ErrSlowReader) {
			t.Fatalf("slow subscriber's Next: %v", err)
		}
	}
}

// A batch larger than the bound reaches a subscriber that keeps up.
func TestHubLargeBatchToKeepingUpSubscriber(t *testing.T) {
	h := newHub()
	sub := h.subscribe(10)
	for range 3 {
		h.publish(batchOf("a large batch", 100))
		b, err := sub.Next(context.Background())
		if err != nil || len(b) != 100 {
			t.Fatalf("batch of 100: %d records, %v", len(b), err)
		}
	}
}

func TestHubPublishesCopies(t *testing.T) {
	h := newHub()
	sub := h.subscribe(1 << 20)
	recs := []record.Record{{Message: "original", Fields: []record.Field{{Name: "a", Value: "1"}}}}
	h.publish(recs)
	recs[0].Fields[0].Value = "changed"
	b, err := sub.Next(context.Background())
	if err != nil || b[0].Fields[0].Value != "1" {
		t.Errorf("subscriber saw the publisher's later change: %v %v", b, err)
	}
}

func TestHubClose(t *testing.T) {
	h := newHub()
	sub := h.subscribe(1 << 20)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := sub.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Next with an ended context: %v", err)
	}
	h.publish(batchOf("x", 1))
	h.closeAll()
	if _, err := sub.Next(context.Background()); !errors.Is(err, ErrHubClosed) {
		t.Fatalf("Next after closeAll: %v", err)
	}
	if h.buffered.Load() != 0 {
		t.Fatalf("%d bytes buffered after closeAll", h.buffered.Load())
	}
	late := h.subscribe(1 << 20)
	if _, err := late.Next(context.Background()); !errors.Is(err, ErrHubClosed) {
		t.Fatalf("subscription after closeAll: %v", err)
	}
	sub.Close()
}
