package query

import (
	"strings"

	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/store"
)

// useCounter lets the store count for the stats processor p
// (store.SearchRequest.Count) when p only counts: every function takes
// rows in bulk (a countAdder: count(), count_uniq()) and no group key reads
// the record itself beyond its stream and, for a _time bucket, its time. Then a block whose records all match is
// added to its groups in one call, without building its rows, and often
// without being read at all.
func useCounter(p processor, req *store.SearchRequest) {
	s, ok := p.(*statsProcessor)
	if !ok {
		return
	}
	for _, c := range s.pipe.Funcs {
		if _, ok := c.Func.newState().(countAdder); !ok {
			return
		}
	}
	for _, k := range s.pipe.By {
		switch {
		case k.Bucket > 0:
			req.CountTimes = true
			req.CountBucket = int64(k.Bucket)
		case k.Field == record.TimeField:
			return // the raw time as a key: every record its own group
		}
	}
	req.Count = s.pushCount
	if s.table != nil {
		req.CountValues = s.pushValues
	}
	// A filter that is only the _time range the search enforces anyway
	// would be asked per row of every block the range cuts; without it
	// such a block's rows are counted by their times alone.
	if tf, ok := req.Filter.(timeFilter); ok && tf.from <= req.From && req.To != 0 && req.To <= tf.to {
		req.Filter = nil
	}
	// Without the filter's fields: the store counts only records whose
	// filter it has decided without building them.
	req.CountFields = s.pipe.neededFields(fieldSet{}).list()
}

// pushCount adds n records like r (which differ only in what the group
// keys do not read) to their groups; times, when not nil, holds their
// times, which a _time bucket key groups by.
func (s *statsProcessor) pushCount(r *record.Record, n int, times []int64) error {
	var err error
	switch {
	case times == nil && s.hist != nil:
		// n records in r.Time's bucket (store.SearchRequest.CountBucket).
		grew, ok := s.hist.add(r.Time, n)
		s.mem += int64(grew)
		if !ok {
			err = s.addCount(r, n)
		}
	case times == nil:
		err = s.addCount(r, n)
	default:
		err = s.addTimes(r, times)
	}
	if err != nil {
		return err
	}
	// New groups count towards the memory bound as they do row by row.
	return s.checkMemory()
}

// pushValues counts counts[i] records whose group key, the field the
// pipe groups by alone, is values[i] (store.SearchRequest.CountValues).
func (s *statsProcessor) pushValues(r *record.Record, field string, values []string, counts []int) error {
	if field != s.pipe.By[0].Field {
		// Not the key (the store groups by the one field the pipe
		// reads, so this does not happen): as Count would be given them.
		var one [1]record.Field
		rec := record.Record{Tenant: r.Tenant, Stream: r.Stream, Fields: one[:]}
		for i, v := range values {
			one[0] = record.Field{Name: field, Value: v}
			if err := s.addCount(&rec, counts[i]); err != nil {
				return err
			}
		}
		return nil
	}
	// A batch's slots are loaded together (keyCounts.touch).
	for len(values) > 0 {
		k := min(len(values), keyBatch)
		for i, h := range s.table.hashAll(values[:k]) {
			if err := s.countKeyHashed(values[i], h, counts[i]); err != nil {
				return err
			}
		}
		values, counts = values[k:], counts[k:]
	}
	return nil
}

// addTimes adds records like r with the given times to their groups.
func (s *statsProcessor) addTimes(r *record.Record, times []int64) error {
	if s.hist != nil {
		rest, grew := s.hist.addTimes(times)
		s.mem += int64(grew)
		// Times outside the buckets' span go to the groups' map.
		if times = rest; len(times) == 0 {
			return nil
		}
	}
	// Grouped by a bucket and one field, the field's value is the same
	// for all of times: looked up once here, not per run.
	if f, ok := s.fieldAndBucket(); ok {
		v, _ := r.Get(f)
		s.fieldValue = v
	}
	// Times come mostly in order, so records of one bucket come in runs:
	// one group lookup per run.
	var run int
	var runBucket int64
	for _, t := range times {
		b := floorDiv(t, s.bucket) * s.bucket
		if run > 0 && b != runBucket {
			if err := s.addBucketCount(r, runBucket, run); err != nil {
				return err
			}
			run = 0
		}
		if run == 0 {
			runBucket = b
			r.Time = t
		}
		run++
	}
	if run > 0 {
		return s.addBucketCount(r, runBucket, run)
	}
	return nil
}

// addBucketCount adds n records like r, whose time lies in the bucket
// starting at bucket, to their group. Grouped by the bucket alone (a
// histogram), the group is found by the bucket's number, which saves
// building the group key for runs that hold only a record or two.
func (s *statsProcessor) addBucketCount(r *record.Record, bucket int64, n int) error {
	if _, ok := s.fieldAndBucket(); ok {
		return s.addFieldBucketCount(r, bucket, n)
	}
	if len(s.pipe.By) != 1 {
		return s.addCount(r, n)
	}
	g := s.byBucket[bucket]
	if g == nil {
		var err error
		if g, err = s.group(Row{Record: r}); err != nil {
			return err
		}
		if s.byBucket == nil {
			s.byBucket = map[int64]*statsGroup{}
		}
		s.byBucket[bucket] = g
	}
	s.addStates(g, r, n)
	return nil
}

// fieldAndBucket reports whether the pipe groups by one field and one
// _time bucket (a histogram by level), and names the field.
func (s *statsProcessor) fieldAndBucket() (string, bool) {
	if len(s.pipe.By) != 2 {
		return "", false
	}
	a, b := s.pipe.By[0], s.pipe.By[1]
	switch {
	case a.Bucket > 0 && b.Bucket == 0 && b.Field != record.TimeField:
		return b.Field, true
	case b.Bucket > 0 && a.Bucket == 0 && a.Field != record.TimeField:
		return a.Field, true
	}
	return "", false
}

// fieldBucket is a group's key when grouped by a field and a bucket.
type fieldBucket struct {
	value  string
	bucket int64
}

// addFieldBucketCount is addBucketCount grouped by a field (whose value
// addTimes put in s.fieldValue) and a bucket: the group is found by the
// pair, without encoding a key. Sparse streams put each record of a block
// in a bucket of its own, so this runs about once per record.
func (s *statsProcessor) addFieldBucketCount(r *record.Record, bucket int64, n int) error {
	k := fieldBucket{s.fieldValue, bucket}
	g := s.byFieldBucket[k]
	if g == nil {
		var err error
		if g, err = s.group(Row{Record: r}); err != nil {
			return err
		}
		if s.byFieldBucket == nil {
			s.byFieldBucket = map[fieldBucket]*statsGroup{}
		}
		// A copy: the value may alias a block's buffer.
		k.value = strings.Clone(k.value)
		s.byFieldBucket[k] = g
		s.mem += int64(len(k.value)) + mapEntryOverhead
	}
	s.addStates(g, r, n)
	return nil
}

// addCount adds n records like r to r's group.
func (s *statsProcessor) addCount(r *record.Record, n int) error {
	if s.table != nil {
		return s.countKey(keyString(Row{Record: r}, s.pipe.By[0].Field), n)
	}
	g, err := s.group(Row{Record: r})
	if err != nil {
		return err
	}
	s.addStates(g, r, n)
	return nil
}

// addStates adds n records like r to g's states, which useCounter made
// sure are countAdders.
func (s *statsProcessor) addStates(g *statsGroup, r *record.Record, n int) {
	for _, st := range g.states {
		s.mem += int64(st.(countAdder).addCount(Row{Record: r}, n))
	}
}
