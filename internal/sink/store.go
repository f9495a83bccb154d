package sink

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"

	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/store"
)

// Names of the provenance fields the store sink adds to every record. They
// make each record's Kafka identity durable in the same WAL write as the
// record itself, which is what lets Open settle a batch whose outcome the
// watermark file does not know.
const (
	FieldTopic     = "kafka.topic"
	FieldPartition = "kafka.partition"
	FieldOffset    = "kafka.offset"
)

// StoreSink writes into the local pipeline (WAL, then the embedded store)
// and never stores an offset twice.
//
// Why replays cannot duplicate: for every partition it keeps Done, the
// greatest offset durable in the store, in a small fsynced file, and drops
// consumed items at or below it. The file is rewritten twice per batch:
//
//  1. Pending = the batch's offset range per partition (fsynced), then
//  2. pipeline Ingest (the WAL fsyncs the records with their kafka.* fields),
//  3. Done = last offset, Pending cleared (fsynced).
//
// A crash before 1 leaves nothing to settle. A crash between 1 and 3 leaves
// a Pending range whose records may be in the WAL entirely, partly (a torn
// tail keeps a prefix) or not at all; on open the sink searches the store
// for that partition's kafka.offset values within the range and takes the
// greatest found as Done. Records of one partition enter a batch in offset
// order and batches are ingested one after the other, so every offset up to
// that greatest one is in the store and none above it is: the replay
// resumes exactly after it. The Kafka commit happens after 3, so a crash
// between 3 and the commit only replays offsets that step 1's filter drops.
//
// A write that fails between 1 and 3 without a crash (Ingest answering an
// error after the WAL took the batch, the watermark file failing to be
// replaced) leaves the same unknown, and the caller sends the same batch
// again: Write settles any Pending range first, exactly as open does, so
// the retry drops what is already stored. (It used to overwrite Pending
// with the retry's range and ingest the batch a second time.)
type StoreSink struct {
	in     ingest.Sink
	search store.Searcher
	path   string
	log    *slog.Logger

	mu sync.Mutex
	wm *watermarkFile
}

// OpenStore opens the sink over the pipeline (in, search) with its
// watermark file at path, settling any batch a crash left pending.
func OpenStore(ctx context.Context, in ingest.Sink, search store.Searcher, path string, log *slog.Logger) (*StoreSink, error) {
	wm, err := readWatermarks(path)
	if err != nil {
		return nil, err
	}
	s := &StoreSink{in: in, search: search, path: path, log: log, wm: wm}
	if err := s.settleLocked(ctx, "settled a batch left pending by a crash"); err != nil {
		return nil, err
	}
	return s, nil
}

// settleLocked resolves every Pending range by searching the store, and
// makes the result durable. It runs on open (a crash left the range) and
// before a write that follows a failed one (Ingest or the watermark write
// failed after the WAL may have taken the batch: sending the batch again
// without settling first would store it twice).
func (s *StoreSink) settleLocked(ctx context.Context, what string) error {
	settled := false
	for key, pm := range s.wm.Partitions {
		if pm.Pending == nil {
			continue
		}
		topic, partition, err := splitPartitionKey(key)
		if err != nil {
			return err
		}
		found, err := s.greatestStored(ctx, topic, partition, pm.Pending)
		if err != nil {
			return fmt.Errorf("settle pending offsets of %s: %w", key, err)
		}
		s.log.Info(what, "partition", key,
			"pending_first", pm.Pending.First, "pending_last", pm.Pending.Last, "found_up_to", found, "done_before", pm.Done)
		pm.Done = max(pm.Done, found)
		pm.Held = pm.Held.Add(pm.Pending.First, found, pm.Pending.Continues)
		pm.Pending = nil
		settled = true
	}
	if settled {
		return writeWatermarks(s.path, s.wm)
	}
	return nil
}

func splitPartitionKey(key string) (string, int32, error) {
	for i := len(key) - 1; i >= 0; i-- {
		if key[i] == '/' {
			p, err := strconv.ParseInt(key[i+1:], 10, 32)
			if err != nil {
				break
			}
			return key[:i], int32(p), nil
		}
	}
	return "", 0, fmt.Errorf("offset watermarks: bad partition key %q", key)
}

// greatestStored returns the greatest offset of topic/partition within pr
// present in the store, or pr.First-1 when none is.
func (s *StoreSink) greatestStored(ctx context.Context, topic string, partition int32, pr *pendingRange) (int64, error) {
	f := offsetFilter{topic: topic, partition: strconv.Itoa(int(partition)), first: pr.First, last: pr.Last}
	best := pr.First - 1
	for _, tenant := range pr.Tenants {
		err := s.search.Search(ctx, store.SearchRequest{Tenant: tenant, Filter: f}, func(r *record.Record) error {
			v, _ := r.Get(FieldOffset)
			if o, err := strconv.ParseInt(v, 10, 64); err == nil && o > best {
				best = o
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
	}
	return best, nil
}

// Done returns the durable watermark of a partition (-1 if none), for tests
// and logs.
func (s *StoreSink) Done(topic string, partition int32) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if pm := s.wm.Partitions[partitionKey(topic, partition)]; pm != nil {
		return pm.Done
	}
	return -1
}

// Write ingests the items not yet durable. The store sink refuses nothing
// for good: every record the pipeline takes is stored.
func (s *StoreSink) Write(ctx context.Context, items []Item) ([]Rejected, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.settleLocked(ctx, "settled the batch of a failed write"); err != nil {
		return nil, err
	}
	recs := make([]record.Record, 0, len(items))
	pending := map[string]*pendingRange{}
	for i := range items {
		it := &items[i]
		key := partitionKey(it.Topic, it.Partition)
		pm := s.wm.Partitions[key]
		if pm != nil && it.Offset <= pm.Done {
			continue // a replay of something already stored
		}
		pr := pending[key]
		if pr == nil {
			pr = &pendingRange{First: it.Offset, Continues: it.Continues}
			pending[key] = pr
		}
		pr.Last = it.Offset
		if !slices.Contains(pr.Tenants, it.Record.Tenant) {
			pr.Tenants = append(pr.Tenants, it.Record.Tenant)
		}
		recs = append(recs, withProvenance(it))
	}
	if len(recs) == 0 {
		return nil, nil
	}
	for key, pr := range pending {
		pm := s.wm.Partitions[key]
		if pm == nil {
			pm = &partitionMark{Done: -1}
			s.wm.Partitions[key] = pm
		}
		pm.Pending = pr
	}
	if err := writeWatermarks(s.path, s.wm); err != nil {
		return nil, err
	}
	faultPending.Hit()
	if err := s.in.Ingest(ctx, recs); err != nil {
		// Nothing or all of it may be in the WAL (a backpressure error
		// means nothing); Pending stays until the next Write or the next
		// open settles it.
		return nil, fmt.Errorf("store sink: ingest %d records: %w", len(recs), err)
	}
	faultIngested.Hit()
	for key, pr := range pending {
		pm := s.wm.Partitions[key]
		pm.Done = pr.Last
		pm.Held = pm.Held.Add(pr.First, pr.Last, pr.Continues)
		pm.Pending = nil
	}
	if err := writeWatermarks(s.path, s.wm); err != nil {
		return nil, err
	}
	faultDone.Hit()
	return nil, nil
}

// withProvenance returns the item's record with its Kafka coordinates as
// fields, replacing any of the same names the message carried.
func withProvenance(it *Item) record.Record {
	r := it.Record
	fields := make([]record.Field, 0, len(r.Fields)+3)
	for _, f := range r.Fields {
		if f.Name != FieldTopic && f.Name != FieldPartition && f.Name != FieldOffset {
			fields = append(fields, f)
		}
	}
	r.Fields = append(fields,
		record.Field{Name: FieldTopic, Value: it.Topic},
		record.Field{Name: FieldPartition, Value: strconv.Itoa(int(it.Partition))},
		record.Field{Name: FieldOffset, Value: strconv.FormatInt(it.Offset, 10)})
	return r
}

// Close does nothing: the pipeline is closed by its owner.
func (s *StoreSink) Close(context.Context) error { return nil }

// offsetFilter selects one partition's records within an offset range.
type offsetFilter struct {
	topic, partition string
	first, last      int64
}

func (f offsetFilter) Match(r *record.Record) bool {
	if v, _ := r.Get(FieldTopic); v != f.topic {
		return false
	}
	if v, _ := r.Get(FieldPartition); v != f.partition {
		return false
	}
	v, _ := r.Get(FieldOffset)
	o, err := strconv.ParseInt(v, 10, 64)
	return err == nil && o >= f.first && o <= f.last
}

func (f offsetFilter) MayMatch(b store.BlockSummary) bool {
	if !b.MayHaveField(FieldOffset) || !b.MayContainToken(FieldPartition, f.partition) {
		return false
	}
	lo, hi, ok := b.NumRange(FieldOffset)
	return !ok || (hi >= float64(f.first) && lo <= float64(f.last))
}
