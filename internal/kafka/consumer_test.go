package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-log/sluice/internal/sink"
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

// recordingSink keeps what it is handed.
type recordingSink struct {
	mu    sync.Mutex
	items []sink.Item
}

func (s *recordingSink) Write(_ context.Context, items []sink.Item) ([]sink.Rejected, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.items = append(s.items, items...)
	return nil, nil
}

func (s *recordingSink) Close(context.Context) error { return nil }

func (s *recordingSink) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.items)
}

// TestConsumerContinues: the first batch of a partition a consumer reads
// starts a run (Continues unset, the store sink starts a new offset
// range unless it touches one); every later batch of it continues,
// including after a message that went to the dead-letter topic.
func TestConsumerContinues(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "logs", "dead"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i := range 10 {
		v := fmt.Sprintf(`{"_msg":"m%d"}`, i)
		if i == 4 {
			v = "not JSON"
		}
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "logs", Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	rec := &recordingSink{}
	k, err := NewConsumer(ClientOptions{Brokers: c.ListenAddrs()}, ConsumerOptions{
		Topic: "logs", Group: "g", DeadLetterTopic: "dead", SinkName: "test", MaxPollRecords: 3, SessionTimeout: 6 * time.Second,
	}, rec, testDecoder(), NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- k.Run(ctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for rec.len() < 9 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.items) != 9 {
		t.Fatalf("sink got %d items, want 9", len(rec.items))
	}
	if rec.items[0].Offset != 0 || rec.items[0].Continues {
		t.Errorf("first item: offset %d, continues %v; want 0, false", rec.items[0].Offset, rec.items[0].Continues)
	}
	// The first batch (at most 3 messages) starts the run, every later
	// one continues it.
	for i, it := range rec.items {
		first := i == 0 || !rec.items[i-1].Continues && it.Offset < 3
		if it.Continues == first {
			t.Errorf("offset %d: continues %v", it.Offset, it.Continues)
		}
	}
}
