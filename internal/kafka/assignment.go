package kafka

import "slices"

// Group is the consumer group the indexer is a member of.
func (k *Consumer) Group() string { return k.opts.Group }

// Topic is the topic the indexer consumes.
func (k *Consumer) Topic() string { return k.opts.Topic }

// Assigned returns the partitions the indexer owns now, in order. A
// querier reads them (through the status endpoint) to know where new
// records of a partition arrive.
func (k *Consumer) Assigned() []int32 {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]int32, 0, len(k.lags))
	for p := range k.lags {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}
