package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-log/sluice/internal/aimd"
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
	// Adaptive makes the bound on bytes in flight adaptive (internal/aimd)
	// in steps of a 64th of MaxInFlightBytes, from a quarter of it up to
	// all of it: one step more per round trip while the requests' produce
	// latency stays flat and the bound is used, 10% less when it rises,
	// when records fail with a timeout or a retriable broker error, or
	// when a broker throttles. A request that finds the bound full waits
	// up to RetryAfter for room, then is refused with a BackpressureError.
	Adaptive bool
	// Limits exports the adaptive bound, in steps, as
	// sluice_sink_concurrency{sink="kafka"}.
	Limits *aimd.Metrics
}

// adaptiveSteps: the adaptive bound moves in steps of a 64th of
// max_in_flight_bytes (1 MiB of the default 64 MiB, franz-go's batch size),
// and starts at a quarter of it.
const adaptiveSteps, adaptiveStart = 64, 16

// adaptiveUnit is the bytes of one step of the adaptive bound.
func (o ProducerOptions) adaptiveUnit() int64 { return max(o.MaxInFlightBytes/adaptiveSteps, 1) }

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
	// lim bounds the requests producing at once (nil: unbounded, only
	// MaxInFlightBytes); throttled is set by a broker's throttle and read
	// by the next request that ends.
	lim       *aimd.Limiter
	throttled *atomic.Bool
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
	throttled := new(atomic.Bool)
	opts = append(opts, kgo.WithHooks(throttleHook{throttled}),
		// franz-go then fails the producer ID and sends its unacknowledged
		// batches again under a new one (logged at its info level, which
		// the adapter drops): a batch the broker had taken is then in
		// Kafka twice, one it had lost is not at all. Say so.
		kgo.ProducerOnDataLossDetected(func(topic string, partition int32) {
			log.Warn("Kafka broker reported a gap in this producer's sequence (OUT_OF_ORDER_SEQUENCE_NUMBER or UNKNOWN_PRODUCER_ID); its unacknowledged records are produced again under a new producer ID, so some may now be in Kafka twice or not at all",
				"topic", topic, "partition", partition)
		}))
	if o.DeliveryTimeout > 0 {
		opts = append(opts, kgo.RecordDeliveryTimeout(o.DeliveryTimeout))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka producer: %w", err)
	}
	p := &Producer{cl: cl, opts: o, m: m, log: log, throttled: throttled}
	if o.Adaptive {
		p.lim = aimd.New(aimd.Config{Initial: adaptiveStart, Max: adaptiveSteps, Unit: o.adaptiveUnit()})
		o.Limits.Track(p.lim, "kafka")
	}
	return p, nil
}

// throttleHook hears a broker throttle the producer (a quota): franz-go
// waits the throttle out by itself; the limiter takes it as pushback.
type throttleHook struct{ throttled *atomic.Bool }

func (h throttleHook) OnBrokerThrottle(_ kgo.BrokerMetadata, interval time.Duration, _ bool) {
	if interval > 0 {
		h.throttled.Store(true)
	}
}

// produceOutcome says what a request's first record error says of
// Kafka's load. franz-go retries retriable errors itself until the
// delivery timeout, so a request ends with one only when Kafka stayed
// unable to take it; an error that is not retriable (a record too large,
// no authorization, a policy) is the request's own fault or a
// configuration's and says nothing of the load.
func produceOutcome(err error) aimd.Outcome {
	var ke *kerr.Error
	switch {
	case err == nil:
		return aimd.OK
	case errors.Is(err, kgo.ErrRecordTimeout), errors.Is(err, kgo.ErrRecordRetries), errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &ke) && ke.Retriable, errors.Is(err, kerr.ThrottlingQuotaExceeded):
		return aimd.Overloaded
	}
	return aimd.Failed
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
	if p.lim != nil {
		// The adaptive bound is at most MaxInFlightBytes.
		if err := p.acquire(ctx, size); err != nil {
			return err
		}
		p.inFlight.Add(size)
	} else if cur := p.inFlight.Add(size); cur > p.opts.MaxInFlightBytes && cur != size {
		// One batch larger than the bound is let through when nothing
		// else is in flight, so that it is slow rather than refused for
		// ever.
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
	go func() {
		wg.Wait()
		// The slot is held until Kafka answered every record, even when
		// the client stopped waiting: what the limit bounds is in Kafka.
		if p.lim != nil {
			o := produceOutcome(firstErr)
			if p.throttled.Swap(false) && o == aimd.OK {
				o = aimd.Overloaded
			}
			p.lim.ReleaseN(size, time.Since(start), o)
		}
		close(done)
	}()
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

// acquire waits for room under the adaptive bound up to RetryAfter: a
// client refused now would be told to come back after that long anyway,
// and holding its request that long costs it nothing more.
func (p *Producer) acquire(ctx context.Context, size int64) error {
	wctx, cancel := context.WithTimeout(ctx, p.opts.RetryAfter)
	defer cancel()
	if err := p.lim.AcquireN(wctx, size); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("waiting to produce to Kafka: %w", ctx.Err())
		}
		bound := int64(p.lim.Limit()) * p.opts.adaptiveUnit()
		p.m.backpressure.Inc()
		p.warn("Kafka is slow or unreachable: refusing ingest with 429", "in_flight_bytes", p.lim.InFlight(), "adaptive_bound_bytes", bound)
		return &ingest.BackpressureError{RetryAfter: p.opts.RetryAfter,
			Reason: fmt.Sprintf("Kafka has not yet acknowledged %d bytes (adaptive bound %d)", p.lim.InFlight(), bound)}
	}
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
