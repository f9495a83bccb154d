package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-log/sluice/internal/sink"
)

// ConsumerOptions configures the indexer's consumer.
type ConsumerOptions struct {
	Topic           string
	Group           string
	DeadLetterTopic string
	SinkName        string // for metrics: store, elasticsearch, opensearch
	MaxPollRecords  int
	// SessionTimeout is how long the group waits for a crashed member.
	SessionTimeout time.Duration
	// RebalanceTimeout is how long a rebalance waits for members to
	// rejoin (0: franz-go's default, 60 s).
	RebalanceTimeout time.Duration
	// InstanceID, when set, makes the member static (group.instance.id).
	InstanceID string
	// RetryBackoff is the first wait after a failed sink write or
	// dead-letter produce; it doubles up to 30 s.
	RetryBackoff time.Duration
	// GroupLagInterval is how often the group's lag is read from the
	// brokers for sluice_kafka_group_lag.
	GroupLagInterval time.Duration
	// UnreadyAfter is how long the sink may fail without a success before
	// Ready reports an error.
	UnreadyAfter time.Duration
}

// Consumer is the indexer: a consumer group member (cooperative-sticky,
// no autocommit) feeding a sink.
//
// Each polled batch is decoded, written to the sink (retried until it
// succeeds), its refused messages produced to the dead-letter topic (acks
// =all), and only then are its offsets committed. Rebalances are blocked
// while a batch is in progress (BlockRebalanceOnPoll), so a partition
// changes owner only between batches, after its last commit.
type Consumer struct {
	cl   *kgo.Client
	sink sink.Sink
	dec  *Decoder
	opts ConsumerOptions
	m    *Metrics
	log  *slog.Logger

	mu   sync.Mutex
	lags map[int32]int64
	// reading are the partitions this process handed a batch of to the
	// sink and still owns since: their next batch continues it.
	reading map[int32]bool
	// groupLag is the last group lag read (groupLagRead once one was).
	groupLag     int64
	groupLagRead bool

	failMu       sync.Mutex
	failingSince time.Time // zero while the sink works
	lastFailure  error
}

// NewConsumer joins the group lazily, at the first poll of Run.
func NewConsumer(c ClientOptions, o ConsumerOptions, s sink.Sink, dec *Decoder, m *Metrics, log *slog.Logger) (*Consumer, error) {
	if o.DeadLetterTopic == "" {
		return nil, errors.New("kafka consumer: a dead-letter topic is required, so that refused messages are never dropped")
	}
	if o.MaxPollRecords <= 0 {
		o.MaxPollRecords = 5000
	}
	if o.SessionTimeout <= 0 {
		o.SessionTimeout = 45 * time.Second
	}
	if o.RetryBackoff <= 0 {
		o.RetryBackoff = 200 * time.Millisecond
	}
	if o.GroupLagInterval <= 0 {
		o.GroupLagInterval = 2 * time.Second
	}
	if o.UnreadyAfter <= 0 {
		o.UnreadyAfter = 30 * time.Second
	}
	base, err := c.kgoOpts(log)
	if err != nil {
		return nil, err
	}
	k := &Consumer{sink: s, dec: dec, opts: o, m: m, log: log, lags: map[int32]int64{}, reading: map[int32]bool{}}
	opts := append(base,
		kgo.ConsumerGroup(o.Group),
		kgo.ConsumeTopics(o.Topic),
		kgo.Balancers(kgo.CooperativeStickyBalancer()),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.SessionTimeout(o.SessionTimeout),
		kgo.HeartbeatInterval(min(3*time.Second, o.SessionTimeout/3)),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, ps map[string][]int32) {
			k.rebalanced("assigned", ps)
		}),
		kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, ps map[string][]int32) {
			k.rebalanced("revoked", ps)
		}),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, ps map[string][]int32) {
			k.rebalanced("lost", ps)
		}),
	)
	if o.RebalanceTimeout > 0 {
		opts = append(opts, kgo.RebalanceTimeout(o.RebalanceTimeout))
	}
	if o.InstanceID != "" {
		opts = append(opts, kgo.InstanceID(o.InstanceID))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka consumer: %w", err)
	}
	k.cl = cl
	return k, nil
}

func (k *Consumer) rebalanced(event string, ps map[string][]int32) {
	n := 0
	k.mu.Lock()
	for _, parts := range ps {
		for _, p := range parts {
			n++
			if event == "assigned" {
				k.lags[p] = 0
			} else {
				delete(k.lags, p)
				delete(k.reading, p)
				k.m.lag.DeleteLabelValues(k.opts.Topic, strconv.Itoa(int(p)))
			}
		}
	}
	k.m.assignedPartitions.Set(float64(len(k.lags)))
	k.publishLagLocked()
	k.mu.Unlock()
	k.m.rebalances.WithLabelValues(event).Add(float64(n))
	k.log.Info("consumer group rebalance", "event", event, "partitions", ps)
}

func (k *Consumer) publishLagLocked() {
	var total int64
	for p, l := range k.lags {
		total += l
		k.m.lag.WithLabelValues(k.opts.Topic, strconv.Itoa(int(p))).Set(float64(l))
	}
	k.m.lagTotal.Set(float64(total))
}

// Run consumes until ctx is cancelled, then leaves the group. A batch in
// progress at that moment is not committed; its messages are consumed
// again by whoever owns the partition next, and the sink drops or
// overwrites what it already has.
func (k *Consumer) Run(ctx context.Context) error {
	lagCtx, stopLag := context.WithCancel(ctx)
	lagDone := make(chan struct{})
	go func() {
		defer close(lagDone)
		k.runGroupLag(lagCtx, kadm.NewClient(k.cl))
	}()
	defer func() {
		stopLag()
		<-lagDone
		// With BlockRebalanceOnPoll, leaving the group waits for the
		// rebalance a poll may have blocked.
		k.cl.AllowRebalance()
		k.cl.Close()
	}()
	for {
		fetches := k.cl.PollRecords(ctx, k.opts.MaxPollRecords)
		if ctx.Err() != nil || fetches.IsClientClosed() {
			return nil
		}
		fetches.EachError(func(topic string, p int32, err error) {
			if !errors.Is(err, context.Canceled) {
				k.log.Warn("fetch failed; retrying", "topic", topic, "partition", p, "err", err)
			}
		})
		recs := fetches.Records()
		if len(recs) > 0 {
			if err := k.process(ctx, recs); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
		}
		k.updateLag(fetches)
		k.cl.AllowRebalance()
	}
}

func (k *Consumer) updateLag(fetches kgo.Fetches) {
	k.mu.Lock()
	defer k.mu.Unlock()
	fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
		if len(fp.Records) == 0 {
			return
		}
		if _, owned := k.lags[fp.Partition]; !owned {
			return
		}
		next := fp.Records[len(fp.Records)-1].Offset + 1
		k.lags[fp.Partition] = max(fp.HighWatermark-next, 0)
	})
	k.publishLagLocked()
}

type coord struct {
	p int32
	o int64
}

// process makes one polled batch durable, dead-letters what cannot be
// stored and commits. It returns only when that is done or ctx ended.
func (k *Consumer) process(ctx context.Context, recs []*kgo.Record) error {
	items := make([]sink.Item, 0, len(recs))
	raw := make(map[coord]*kgo.Record, len(recs))
	var dead []*kgo.Record
	k.mu.Lock()
	continues := make(map[int32]bool, len(k.reading))
	for p := range k.reading {
		continues[p] = true
	}
	k.mu.Unlock()
	for _, m := range recs {
		r, err := k.dec.Decode(m)
		if err != nil {
			dead = append(dead, k.deadLetter(m, "decode: "+err.Error()))
			k.m.deadLettered.WithLabelValues("decode").Inc()
			continue
		}
		raw[coord{m.Partition, m.Offset}] = m
		items = append(items, sink.Item{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset, Record: r,
			Origin: headerValue(m, SourceHeader), Continues: continues[m.Partition]})
	}
	if len(items) > 0 {
		rejected, err := k.writeSink(ctx, items)
		if err != nil {
			return err
		}
		for _, rj := range rejected {
			dead = append(dead, k.deadLetter(raw[coord{rj.Item.Partition, rj.Item.Offset}], "sink: "+rj.Reason))
			k.m.deadLettered.WithLabelValues("sink").Inc()
		}
	}
	if len(dead) > 0 {
		if err := k.retry(ctx, "produce to dead-letter topic", func() error {
			return k.cl.ProduceSync(ctx, dead...).FirstErr()
		}); err != nil {
			return err
		}
		k.log.Warn("messages dead-lettered", "count", len(dead), "topic", k.opts.DeadLetterTopic, "first_reason", headerValue(dead[0], ReasonHeader))
	}
	faultCommit.Hit()
	if err := k.cl.CommitRecords(ctx, recs...); err != nil {
		// Not fatal: the records are durable, a replay is filtered (store)
		// or overwrites (search sinks), and the next commit covers these.
		k.log.Warn("offset commit failed; a restart would replay this batch harmlessly", "err", err)
	}
	faultCommitted.Hit()
	k.m.consumed.Add(float64(len(recs)))
	k.mu.Lock()
	for _, m := range recs {
		if _, owned := k.lags[m.Partition]; owned {
			k.reading[m.Partition] = true
		}
	}
	k.mu.Unlock()
	return nil
}

func (k *Consumer) writeSink(ctx context.Context, items []sink.Item) ([]sink.Rejected, error) {
	var rejected []sink.Rejected
	err := k.retry(ctx, "write to the "+k.opts.SinkName+" sink", func() error {
		start := time.Now()
		var err error
		rejected, err = k.sink.Write(ctx, items)
		if err != nil {
			k.m.sinkErrors.WithLabelValues(k.opts.SinkName).Inc()
			return err
		}
		k.m.sinkLatency.WithLabelValues(k.opts.SinkName).Observe(time.Since(start).Seconds())
		return nil
	})
	return rejected, err
}

// retry runs fn until it succeeds or ctx ends, backing off between tries:
// an indexer never skips what it could not store.
func (k *Consumer) retry(ctx context.Context, what string, fn func() error) error {
	delay := k.opts.RetryBackoff
	for {
		err := fn()
		if err == nil {
			k.setFailing(nil)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		k.setFailing(fmt.Errorf("%s: %w", what, err))
		k.log.Warn("retrying after failure", "what", what, "delay", delay, "err", err)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		delay = min(2*delay, 30*time.Second)
	}
}

// setFailing records a failed attempt (err) or a success (nil).
func (k *Consumer) setFailing(err error) {
	k.failMu.Lock()
	defer k.failMu.Unlock()
	switch {
	case err == nil && !k.failingSince.IsZero():
		k.failingSince, k.lastFailure = time.Time{}, nil
		k.m.sinkFailing.Set(0)
		k.log.Info("sink works again")
	case err != nil:
		if k.failingSince.IsZero() {
			k.failingSince = time.Now()
			k.m.sinkFailing.Set(float64(k.failingSince.UnixNano()) / 1e9)
		}
		k.lastFailure = err
	}
}

// Ready reports an error once the sink (or the dead-letter produce) has
// failed without a success for longer than UnreadyAfter: the indexer is
// alive and retrying, but makes no progress (a cluster refusing its
// credentials, a full disk). A slow sink is not a failing one.
func (k *Consumer) Ready(context.Context) error {
	k.failMu.Lock()
	defer k.failMu.Unlock()
	if k.failingSince.IsZero() {
		return nil
	}
	if d := time.Since(k.failingSince); d > k.opts.UnreadyAfter {
		return fmt.Errorf("sink failing for %s (sink.unready_after %s), retrying; last error: %w",
			d.Round(time.Second), k.opts.UnreadyAfter, k.lastFailure)
	}
	return nil
}

// deadLetter makes the dead-letter message of m: its key, value and
// headers, with the reason (replacing an earlier one) and where it was
// first consumed (kept if m is itself a replayed dead letter) as headers.
func (k *Consumer) deadLetter(m *kgo.Record, reason string) *kgo.Record {
	h := withoutHeader(m.Headers, ReasonHeader)
	h = append(h, kgo.RecordHeader{Key: ReasonHeader, Value: []byte(reason)})
	if headerValue(m, SourceHeader) == "" {
		h = append(h, kgo.RecordHeader{Key: SourceHeader, Value: []byte(m.Topic + "/" + strconv.Itoa(int(m.Partition)) + "/" + strconv.FormatInt(m.Offset, 10))})
	}
	return &kgo.Record{Topic: k.opts.DeadLetterTopic, Key: m.Key, Value: m.Value, Headers: h}
}

func headerValue(m *kgo.Record, key string) string {
	for _, h := range m.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}
