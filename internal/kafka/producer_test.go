package kafka

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/record"
)

func testRecords(n int) []record.Record {
	recs := make([]record.Record, n)
	for i := range recs {
		recs[i] = record.Record{Time: int64(i), Message: "a log line of some length",
			Stream: []record.Field{{Name: "service", Value: "api"}}}
	}
	return recs
}

// TestProducerBackpressure: while the broker refuses produce requests, a
// request waits, the next one is refused with a BackpressureError; once the
// broker is back both go through and every record is in the topic.
func TestProducerBackpressure(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "logs"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var down atomic.Bool
	down.Store(true)
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		if !down.Load() {
			c.DropControl()
			return nil, nil, false
		}
		c.KeepControl()
		return nil, errors.New("down"), true
	})
	p, err := NewProducer(ClientOptions{Brokers: c.ListenAddrs()}, ProducerOptions{
		Topic: "logs", Compression: "lz4", MaxInFlightBytes: 1024, DeliveryTimeout: time.Minute,
	}, NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())

	first := make(chan error, 1)
	go func() { first <- p.Ingest(context.Background(), testRecords(50)) }()
	for p.inFlight.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	err = p.Ingest(context.Background(), testRecords(1))
	if _, ok := ingest.IsBackpressure(err); !ok {
		t.Fatalf("second request while Kafka is down: %v, want backpressure", err)
	}
	down.Store(false)
	if err := <-first; err != nil {
		t.Fatalf("first request after recovery: %v", err)
	}
	if err := p.Ingest(context.Background(), testRecords(1)); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if n := p.inFlight.Load(); n != 0 {
		t.Errorf("in-flight bytes %d after every ack", n)
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics("logs"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	got := 0
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for got < 51 && ctx.Err() == nil {
		got += len(cl.PollFetches(ctx).Records())
	}
	if got != 51 {
		t.Errorf("topic holds %d records, want 51", got)
	}
}

func BenchmarkEncode(b *testing.B) {
	r := testRecords(1)[0]
	r.Fields = []record.Field{{Name: "level", Value: "info"}, {Name: "latency_ms", Value: "12"}}
	b.ReportAllocs()
	for b.Loop() {
		encode(&r, "logs", nil)
	}
}

func BenchmarkDecodeRecord(b *testing.B) {
	r := testRecords(1)[0]
	r.Fields = []record.Field{{Name: "level", Value: "info"}, {Name: "latency_ms", Value: "12"}}
	m := encode(&r, "logs", nil)
	d := testDecoder()
	b.SetBytes(int64(len(m.Value)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Decode(m); err != nil {
			b.Fatal(err)
		}
	}
}
