package sink

import (
	"cmp"
	"slices"
)

// StoredPartition is a Kafka partition whose records the store holds, up
// to offset Done, within Ranges.
type StoredPartition struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Done      int64  `json:"done"`
	Ranges    Ranges `json:"ranges"`
}

// Stored returns every partition the store holds records of, in order.
// After a rebalance a partition's history is split across the stores of
// its group's indexers; a querier reads this list (through the status
// endpoint) to ask each of them. A partition whose records retention has
// since dropped may still be listed: asking it costs a search, not
// correctness.
//
// It reads the watermark file, which is replaced atomically, rather than
// the sink's state, whose lock a batch holds while the pipeline may wait.
func (s *StoreSink) Stored() ([]StoredPartition, error) {
	wm, err := readWatermarks(s.path)
	if err != nil {
		return nil, err
	}
	var out []StoredPartition
	for key, pm := range wm.Partitions {
		done, held := pm.Done, pm.Held
		if pm.Pending != nil {
			// A batch in flight may already be searchable.
			done = max(done, pm.Pending.Last)
			held = held.Clone().Add(pm.Pending.First, pm.Pending.Last, pm.Pending.Continues)
		}
		if done < 0 {
			continue
		}
		topic, p, err := splitPartitionKey(key)
		if err != nil {
			continue
		}
		out = append(out, StoredPartition{Topic: topic, Partition: p, Done: done, Ranges: held})
	}
	slices.SortFunc(out, func(a, b StoredPartition) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
	return out, nil
}
