package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-log/sluice/internal/aimd"
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

// BenchmarkProducerIngest: concurrent clients' requests through the
// producer to kfake, with the requests producing at once unbounded (only
// max_in_flight_bytes) and under the adaptive limit; records/s is the
// figure to compare (run them in alternation: kfake shares the CPU).
func BenchmarkProducerIngest(b *testing.B) {
	for _, bc := range []struct {
		name             string
		clients, records int
		adaptive         bool
	}{
		{"clients=64/records=100/static", 64, 100, false},
		{"clients=64/records=100/adaptive", 64, 100, true},
		{"clients=64/records=1000/static", 64, 1000, false},
		{"clients=64/records=1000/adaptive", 64, 1000, true},
		{"clients=512/records=10/static", 512, 10, false},
		{"clients=512/records=10/adaptive", 512, 10, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(8, "logs"))
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			o := ProducerOptions{Topic: "logs", Compression: "lz4", Linger: 5 * time.Millisecond, MaxInFlightBytes: 64 << 20,
				DeliveryTimeout: 30 * time.Second, RetryAfter: time.Second}
			o.Adaptive = bc.adaptive
			p, err := NewProducer(ClientOptions{Brokers: c.ListenAddrs()}, o, NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close(context.Background())
			recs := testRecords(bc.records)
			var next atomic.Int64
			var refused atomic.Int64
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for range bc.clients {
				wg.Go(func() {
					for next.Add(1) <= int64(b.N) {
						err := p.Ingest(context.Background(), recs)
						if _, ok := ingest.IsBackpressure(err); ok {
							refused.Add(1)
						} else if err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			el := time.Since(start)
			b.ReportMetric(float64((int64(b.N)-refused.Load())*int64(bc.records))/el.Seconds(), "records/s")
			b.ReportMetric(float64(refused.Load())/float64(b.N), "refused/op")
			if p.lim != nil {
				b.ReportMetric(float64(p.lim.Limit()), "limit")
			}
		})
	}
}

// TestProducerAdaptive: the adaptive bound on bytes in flight against
// kfake whose produce path changes over time: healthy (the bound climbs),
// slowed by 40 ms per produce request (it comes down), refusing produce
// requests with NOT_ENOUGH_REPLICAS (franz-go retries; the bound does not
// grow, and ingest answers with backpressure, never another error),
// healthy again (it climbs back).
// Every request answered nil has all its records in the topic.
func TestProducerAdaptive(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "logs"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const healthy, slow, down = 0, 1, 2
	var mode atomic.Int32
	c.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		switch mode.Load() {
		case slow:
			c.SleepControl(func() { time.Sleep(40 * time.Millisecond) })
		case down:
			return refuseProduce(req.(*kmsg.ProduceRequest), kerr.NotEnoughReplicas), nil, true
		}
		return nil, nil, false
	})
	reg := prometheus.NewRegistry()
	p, err := NewProducer(ClientOptions{Brokers: c.ListenAddrs()}, ProducerOptions{
		Topic: "logs", Compression: "none", MaxInFlightBytes: 64 << 10, DeliveryTimeout: time.Second,
		RetryAfter: 100 * time.Millisecond, Adaptive: true, Limits: aimd.NewMetrics(reg),
	}, NewMetrics(reg), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	limit := func() float64 {
		mfs, _ := reg.Gather()
		for _, mf := range mfs {
			if mf.GetName() == "sluice_sink_concurrency" && mf.GetMetric()[0].GetLabel()[0].GetValue() == "kafka" {
				return mf.GetMetric()[0].GetGauge().GetValue()
			}
		}
		t.Fatal("no sluice_sink_concurrency{sink=kafka}")
		return 0
	}
	var (
		next            atomic.Int64
		mu              sync.Mutex
		acked           []string
		backpressureErr atomic.Int64
	)
	// run keeps 16 clients sending requests of 20 records (about 2 KiB)
	// until done holds, for at most 10 s.
	run := func(phase string, done func(limit float64) bool) {
		start := time.Now()
		deadline := start.Add(10 * time.Second)
		var reached atomic.Bool
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				for !reached.Load() && time.Now().Before(deadline) {
					recs := testRecords(20)
					for i := range recs {
						recs[i].Message = fmt.Sprintf("record %d", next.Add(1))
					}
					err := p.Ingest(context.Background(), recs)
					if _, ok := ingest.IsBackpressure(err); ok {
						backpressureErr.Add(1)
					} else if err != nil {
						t.Errorf("%s: %v, want nil or backpressure", phase, err)
						return
					} else {
						mu.Lock()
						for i := range recs {
							acked = append(acked, recs[i].Message)
						}
						mu.Unlock()
					}
					if done(limit()) {
						reached.Store(true)
					}
				}
			})
		}
		wg.Wait()
		t.Logf("%s: bound %v steps after %v, %d requests refused with backpressure so far", phase, limit(), time.Since(start).Round(time.Millisecond), backpressureErr.Load())
		if !reached.Load() {
			t.Fatalf("%s: the bound stayed at %v", phase, limit())
		}
	}
	run("healthy", func(l float64) bool { return l >= 24 })
	before := limit()
	mode.Store(slow)
	run("slow", func(l float64) bool { return l < before })
	before = limit()
	refused := backpressureErr.Load()
	mode.Store(down)
	// Requests already handed over wait in franz-go's retries (their
	// failing with the delivery timeout, and the decrease that brings,
	// takes seconds); the next ones find the bound full and are refused.
	run("down", func(l float64) bool { return l <= before && backpressureErr.Load() > refused })
	mode.Store(healthy)
	run("healthy again", func(l float64) bool { return l >= 24 })

	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics("logs"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	inTopic := map[string]bool{}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d := testDecoder()
	missing := func() int {
		n := 0
		for _, m := range acked {
			if !inTopic[m] {
				n++
			}
		}
		return n
	}
	for missing() > 0 && ctx.Err() == nil {
		for _, kr := range cl.PollFetches(ctx).Records() {
			r, err := d.Decode(kr)
			if err != nil {
				t.Fatal(err)
			}
			inTopic[r.Message] = true
		}
	}
	if n := missing(); n > 0 {
		t.Errorf("%d of %d acknowledged records are not in the topic", n, len(acked))
	}
}

// refuseProduce answers every partition of req with err, as a broker
// does that cannot take writes now.
func refuseProduce(req *kmsg.ProduceRequest, err *kerr.Error) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.ProduceResponse)
	for _, t := range req.Topics {
		rt := kmsg.NewProduceResponseTopic()
		rt.Topic, rt.TopicID = t.Topic, t.TopicID
		for _, p := range t.Partitions {
			rp := kmsg.NewProduceResponseTopicPartition()
			rp.Partition, rp.ErrorCode = p.Partition, err.Code
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

func TestProduceOutcome(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want aimd.Outcome
	}{
		{nil, aimd.OK},
		{kgo.ErrRecordTimeout, aimd.Overloaded},
		{kgo.ErrRecordRetries, aimd.Overloaded},
		{fmt.Errorf("wrapped: %w", kerr.NotEnoughReplicas), aimd.Overloaded},
		{kerr.ThrottlingQuotaExceeded, aimd.Overloaded},
		{kerr.MessageTooLarge, aimd.Failed},
		{kerr.TopicAuthorizationFailed, aimd.Failed},
		{errors.New("something else"), aimd.Failed},
	} {
		if got := produceOutcome(tc.err); got != tc.want {
			t.Errorf("produceOutcome(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
