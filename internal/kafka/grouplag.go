package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// GroupLag is one refresh of a consumer group's lag on one topic, as the
// broker sees it: for every partition of the topic, the end offset minus
// the group's committed offset (minus the partition's start offset when the
// group has committed nothing there, or only offsets already deleted).
type GroupLag struct {
	Partitions map[int32]int64
	Total      int64
	// Produced is the sum of the topic's end offsets: how many records
	// were ever produced, whose growth is the ingest rate.
	Produced int64
}

// groupLag reads the group's lag from the brokers with three admin
// requests (committed offsets, start and end offsets of the topic). It
// depends on nothing this process consumed: every member computes the same
// whole-group figure, whichever partitions it owns and whether it is busy,
// stuck or idle.
func groupLag(ctx context.Context, adm *kadm.Client, group, topic string) (GroupLag, error) {
	committed, err := adm.FetchOffsetsForTopics(ctx, group, topic)
	if errors.Is(err, kerr.GroupIDNotFound) {
		// A group that never committed (some brokers say so, others
		// answer no offsets): everything is lag.
		committed, err = nil, nil
	}
	if err != nil {
		return GroupLag{}, fmt.Errorf("fetch committed offsets of group %s: %w", group, err)
	}
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err != nil {
		return GroupLag{}, fmt.Errorf("list start offsets of %s: %w", topic, err)
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return GroupLag{}, fmt.Errorf("list end offsets of %s: %w", topic, err)
	}
	if err := ends.Error(); err != nil {
		return GroupLag{}, fmt.Errorf("list end offsets of %s: %w", topic, err)
	}
	lag := GroupLag{Partitions: map[int32]int64{}}
	for p, end := range ends[topic] {
		from := int64(0)
		if s, ok := starts.Lookup(topic, p); ok && s.Err == nil {
			from = s.Offset
		}
		if c, ok := committed.Lookup(topic, p); ok && c.Err == nil && c.At > from {
			from = c.At
		}
		l := max(end.Offset-from, 0)
		lag.Partitions[p] = l
		lag.Total += l
		lag.Produced += max(end.Offset, 0)
	}
	if len(lag.Partitions) == 0 {
		return GroupLag{}, fmt.Errorf("topic %s has no partitions (does it exist?)", topic)
	}
	return lag, nil
}

// runGroupLag refreshes the group lag metrics every interval until ctx
// ends. A failed refresh keeps the last figures (scrapes see how old they
// are in sluice_kafka_group_lag_refreshed_timestamp_seconds) and is logged
// at most once a minute.
func (k *Consumer) runGroupLag(ctx context.Context, adm *kadm.Client) {
	t := time.NewTicker(k.opts.GroupLagInterval)
	defer t.Stop()
	var lastWarn time.Time
	for {
		rctx, cancel := context.WithTimeout(ctx, k.opts.GroupLagInterval)
		lag, err := groupLag(rctx, adm, k.opts.Group, k.opts.Topic)
		cancel()
		switch {
		case err == nil:
			k.publishGroupLag(lag)
		case ctx.Err() == nil:
			k.m.groupLagErrors.Inc()
			if time.Since(lastWarn) > time.Minute {
				lastWarn = time.Now()
				k.log.Warn("cannot read the consumer group's lag from Kafka; keeping the last figures", "group", k.opts.Group, "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (k *Consumer) publishGroupLag(lag GroupLag) {
	g, topic := k.opts.Group, k.opts.Topic
	for p, l := range lag.Partitions {
		k.m.groupPartitionLag.WithLabelValues(g, topic, strconv.Itoa(int(p))).Set(float64(l))
	}
	k.m.groupLag.WithLabelValues(g).Set(float64(lag.Total))
	k.mu.Lock()
	k.groupLag, k.groupLagRead = lag.Total, true
	k.mu.Unlock()
	k.m.groupLagRefreshed.WithLabelValues(g).SetToCurrentTime()
}

// GroupLag is the group's lag as last read from the brokers; false before
// the first read.
func (k *Consumer) GroupLag() (int64, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.groupLag, k.groupLagRead
}

// GroupReader reads a consumer group's lag and the topic's end offsets
// from the brokers, for a process that is no member of the group (sluice
// autoscale).
type GroupReader struct {
	cl           *kgo.Client
	adm          *kadm.Client
	group, topic string
}

// NewGroupReader connects to the brokers of c.
func NewGroupReader(c ClientOptions, group, topic string, log *slog.Logger) (*GroupReader, error) {
	opts, err := c.kgoOpts(log)
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	return &GroupReader{cl: cl, adm: kadm.NewClient(cl), group: group, topic: topic}, nil
}

// Read is one refresh of the group's lag.
func (r *GroupReader) Read(ctx context.Context) (GroupLag, error) {
	return groupLag(ctx, r.adm, r.group, r.topic)
}

// Close closes the connections to the brokers.
func (r *GroupReader) Close() { r.cl.Close() }
