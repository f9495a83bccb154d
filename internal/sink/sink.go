package sink

import (
	"context"
	"strconv"
	"strings"

	"github.com/sluice-log/sluice/internal/record"
)

// Item is one consumed Kafka message, decoded.
type Item struct {
	Topic     string
	Partition int32
	Offset    int64
	Record    record.Record
	// Origin, for a message replayed from the dead-letter topic, is where
	// it was first consumed ("topic/partition/offset", its sluice-source
	// header): its identity, so that replaying it twice stores it once.
	Origin string
	// Continues is set when the consumer read this partition without a
	// break since the previous batch it handed to the sink (the same
	// process, no rebalance took the partition away meanwhile): the
	// offsets between that batch and this message hold no record the sink
	// did not see, besides those dead-lettered. The store sink then
	// counts the offset range it holds as one.
	Continues bool
}

// ID is the item's identity, stable across replays: topic-partition-offset
// of where it was first consumed.
func (it *Item) ID() string {
	if it.Origin != "" {
		return strings.ReplaceAll(it.Origin, "/", "-")
	}
	b := make([]byte, 0, len(it.Topic)+24)
	b = append(b, it.Topic...)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(it.Partition), 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, it.Offset, 10)
	return string(b)
}

// Rejected is an item that a sink refused for good (a mapping conflict, a
// document the cluster cannot parse): retrying cannot help, so it goes to
// the dead-letter topic with Reason instead of blocking the partition.
type Rejected struct {
	Item   Item
	Reason string
}

// Sink takes consumed items. Write returns nil only once every item it did
// not reject is durable; the caller commits the offsets only then. On an
// error nothing may be committed and the caller retries the same items,
// which a sink must accept without duplicating (its writes are idempotent by
// Item identity).
type Sink interface {
	Write(ctx context.Context, items []Item) ([]Rejected, error)
	Close(ctx context.Context) error
}
