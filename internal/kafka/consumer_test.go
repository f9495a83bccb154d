package kafka

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestConsumerReady: a failing sink makes the indexer not ready only once
// it has failed without a success for longer than UnreadyAfter; one
// success makes it ready again.
func TestConsumerReady(t *testing.T) {
	k := &Consumer{opts: ConsumerOptions{UnreadyAfter: time.Minute}, m: NewMetrics(prometheus.NewRegistry()), log: slog.New(slog.DiscardHandler)}
	ctx := context.Background()
	if err := k.Ready(ctx); err != nil {
		t.Fatalf("fresh consumer: %v", err)
	}
	k.setFailing(errors.New("status 403 security_exception"))
	if err := k.Ready(ctx); err != nil {
		t.Fatalf("failing for less than UnreadyAfter: %v", err)
	}
	first := k.failingSince
	k.setFailing(errors.New("status 403 again"))
	if k.failingSince != first {
		t.Error("a second failure moved the start of the failing streak")
	}
	k.failingSince = time.Now().Add(-2 * time.Minute) // as if the streak began earlier
	if err := k.Ready(ctx); err == nil || !strings.Contains(err.Error(), "403 again") {
		t.Fatalf("failing for longer than UnreadyAfter: %v, want the last error", err)
	}
	k.setFailing(nil)
	if err := k.Ready(ctx); err != nil {
		t.Fatalf("after a success: %v", err)
	}
}
