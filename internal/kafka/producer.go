package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/record"
)

// ProducerOptions configures the gateway's producer.
type ProducerOptions struct {
	Topic       string
	Compression string // zstd, lz4, snappy, gzip or none
	Linger      time.Duration
	// MaxInFlightBytes bounds what was handed to Kafka and not yet
	// acknowledged; above it Ingest refuses with a BackpressureError.
	MaxInFlightBytes int64
	// DeliveryTimeout bounds how long a record may wait for Kafka; after
	// it, the request fails with backpressure (the client retries).
	DeliveryTimeout time.Duration
	// RetryAfter is what a refused client is told to wait.
	RetryAfter time.Duration
	// TenantSigningKey, when set, signs every message's tenant
	// (TenantMACHeader) for indexers holding the same key.
	TenantSigningKey []byte
}

// Producer is the gateway's ingest.Sink: records go to Kafka instead of the
// local WAL, and Ingest returns nil only after Kafka acknowledged every one
// of them with acks=all through an idempotent producer.
type Producer struct {
	cl       *kgo.Client
	opts     ProducerOptions
	m        *Metrics
	log      *slog.Logger
	inFlight atomic.Int64
	lastWarn atomic.Int64 // unix nanos of the last backpressure warning
}

var _ ingest.Sink = (*Producer)(nil)

// NewProducer connects lazily: a broker that is down at start makes
// requests wait (and then refuse), not the gateway fail to start.
func NewProducer(c ClientOptions, o ProducerOptions, m *Metrics, log *slog.Logger) (*Producer, error) {
	base, err := c.kgoOpts(log)
	if err != nil {
		return nil, err
	}
	codec, err := compression(o.Compression)
	if err != nil {
		return nil, err
	}
	if o.RetryAfter <= 0 {
		o.RetryAfter = time.Second
	}
	opts := append(base,
		kgo.DefaultProduceTopic(o.Topic),
		kgo.RequiredAcks(kgo.AllISRAcks()), // idempotence, franz-go's default, needs acks=all
		kgo.ProducerLinger(o.Linger),
		kgo.ProducerBatchCompression(codec),
		// The byte bound below is what limits buffering; the record count
		// must never block Produce before it.
		kgo.MaxBufferedRecords(1<<24),
	)
	if o.DeliveryTimeout > 0 {
		opts = append(opts, kgo.RecordDeliveryTimeout(o.DeliveryTimeout))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka producer: %w", err)
	}
	return &Producer{cl: cl, opts: o, m: m, log: log}, nil
}

func compression(name string) (kgo.CompressionCodec, error) {
	switch name {
	case "zstd":
		return kgo.ZstdCompression(), nil
	case "lz4":
		return kgo.Lz4Compression(), nil
	case "snappy":
		return kgo.SnappyCompression(), nil
	case "gzip":
		return kgo.GzipCompression(), nil
	case "none", "":
		return kgo.NoCompression(), nil
	}
	return kgo.CompressionCodec{}, fmt.Errorf("kafka compression must be zstd, lz4, snappy, gzip or none, got %q", name)
}

// Ingest produces recs and waits until Kafka acknowledged all of them.
func (p *Producer) Ingest(ctx context.Context, recs []record.Record) error {
	if len(recs) == 0 {
		return nil
	}
	krs := make([]*kgo.Record, len(recs))
	var size int64
	for i := range recs {
		krs[i] = encode(&recs[i], p.opts.Topic, p.opts.TenantSigningKey)
		size += int64(len(krs[i].Key) + len(krs[i].Value))
	}
	// One batch larger than the bound is let through when nothing else is
	// in flight, so that it is slow rather than refused for ever.
	if cur := p.inFlight.Add(size); cur > p.opts.MaxInFlightBytes && cur != size {
		p.inFlight.Add(-size)
		p.m.backpressure.Inc()
		p.warn("Kafka is slow or unreachable: refusing ingest with 429", "in_flight_bytes", cur-size, "max_in_flight_bytes", p.opts.MaxInFlightBytes)
		return &ingest.BackpressureError{RetryAfter: p.opts.RetryAfter,
			Reason: fmt.Sprintf("Kafka has not yet acknowledged %d bytes (bound %d)", cur-size, p.opts.MaxInFlightBytes)}
	}
	p.m.inFlightBytes.Set(float64(p.inFlight.Load()))
	start := time.Now()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		failed   int
	)
	wg.Add(len(krs))
	for _, kr := range krs {
		n := int64(len(kr.Key) + len(kr.Value))
		// Not the request's context: once handed over, a record is
		// produced whatever the client does, and its bytes stay counted
		// until Kafka answered.
		p.cl.Produce(context.Background(), kr, func(_ *kgo.Record, err error) {
			p.m.inFlightBytes.Set(float64(p.inFlight.Add(-n)))
			if err != nil {
				mu.Lock()
				failed++
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
			wg.Done()
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return fmt.Errorf("waiting for Kafka to acknowledge %d records: %w", len(krs), ctx.Err())
	}
	p.m.produceLatency.Observe(time.Since(start).Seconds())
	if firstErr != nil {
		p.m.produceErrors.Add(float64(failed))
		p.m.produced.Add(float64(len(krs) - failed))
		p.warn("Kafka did not acknowledge records; the client is told to retry", "records", failed, "err", firstErr)
		if errors.Is(firstErr, kgo.ErrRecordTimeout) || errors.Is(firstErr, kgo.ErrRecordRetries) {
			return &ingest.BackpressureError{RetryAfter: p.opts.RetryAfter,
				Reason: fmt.Sprintf("Kafka did not acknowledge %d of %d records: %v", failed, len(krs), firstErr)}
		}
		return fmt.Errorf("produce %d records to Kafka topic %s: %w", failed, p.opts.Topic, firstErr)
	}
	p.m.produced.Add(float64(len(krs)))
	return nil
}

// warn logs at most one warning every 5 seconds, so that an outage is said
// once per interval, not once per request.
func (p *Producer) warn(msg string, args ...any) {
	now := time.Now().UnixNano()
	last := p.lastWarn.Load()
	if now-last < int64(5*time.Second) || !p.lastWarn.CompareAndSwap(last, now) {
		return
	}
	p.log.Warn(msg, args...)
}

// Close waits (up to ctx) for everything produced to be acknowledged and
// disconnects.
func (p *Producer) Close(ctx context.Context) error {
	err := p.cl.Flush(ctx)
	p.cl.Close()
	if err != nil {
		return fmt.Errorf("flush Kafka producer: %w", err)
	}
	return nil
}
