package pipeline

import (
	"testing"

	"github.com/sluice-log/sluice/internal/record"
)

func TestHubSlowSubscriberMissesInsteadOfBlocking(t *testing.T) {
	h := newHub()
	slow := h.subscribe(1)
	fast := h.subscribe(10)
	for i := 0; i < 5; i++ {
		h.publish([]record.Record{{Message: "m"}, {Message: "n"}}) // never blocks
	}
	if got := len(fast.C); got != 5 {
		t.Errorf("fast subscriber got %d batches, want 5", got)
	}
	if got := slow.Missed(); got != 8 {
		t.Errorf("slow subscriber missed %d records, want 8", got)
	}
	if got := slow.Missed(); got != 0 {
		t.Errorf("Missed did not reset: %d", got)
	}
	slow.Close()
	if _, ok := <-slow.C; !ok {
		t.Error("closed subscription lost its buffered batch")
	}
	if _, ok := <-slow.C; ok {
		t.Error("subscription channel not closed")
	}
	h.closeAll()
	fast.Close() // closing twice is harmless
}

func TestHubPublishesCopies(t *testing.T) {
	h := newHub()
	sub := h.subscribe(1)
	recs := []record.Record{{Message: "original", Fields: []record.Field{{Name: "a", Value: "1"}}}}
	h.publish(recs)
	recs[0].Fields[0].Value = "changed"
	if got := (<-sub.C)[0].Fields[0].Value; got != "1" {
		t.Errorf("subscriber saw the publisher's later change: %q", got)
	}
}
