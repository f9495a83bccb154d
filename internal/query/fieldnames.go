package query

import (
	"context"
	"encoding/binary"
	"fmt"
	"sort"

	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/store"
)

// FieldStats describes one field of the records a query matches.
type FieldStats struct {
	Name string
	// Count is the number of matching records that have the field.
	Count int64
	// Top holds the most frequent values, most frequent first.
	Top []ValueCount
}

// ValueCount is one value of a field and how many records hold it.
type ValueCount struct {
	Value string
	Count int64
}

// maxTrackedValues bounds the distinct values FieldNames counts per field.
// Top values are exact for fields with fewer distinct values; beyond that,
// values first seen after the bound are not counted, which keeps memory
// flat on fields like _msg where every value differs.
const maxTrackedValues = 10000

// FieldNames scans the records that q's filter matches (its pipes are not
// run) and returns every field found with the number of records having it
// and its top values, most common field first. The names include _msg,
// _stream and the stream labels, not _time. top <= 0 returns no values.
// More than opts.MaxGroups distinct field names is an error.
func FieldNames(ctx context.Context, src store.Searcher, q *Query, opts Options, top int) ([]FieldStats, error) {
	fields, err := countFields(ctx, src, q, opts, top > 0)
	if err != nil {
		return nil, err
	}
	return fields.stats(top), nil
}

// fieldCounts are the fields counted so far, by name.
type fieldCounts struct {
	maxFields int
	values    bool // whether values are counted (top > 0)
	fields    map[string]*fieldCounter
}

func newFieldCounts(opts Options, values bool) *fieldCounts {
	return &fieldCounts{maxFields: opts.withDefaults().MaxGroups, values: values, fields: map[string]*fieldCounter{}}
}

// see counts n records whose field name holds value.
func (fs *fieldCounts) see(name, value string, n int64) error {
	fc, err := fs.field(name)
	if err != nil {
		return err
	}
	fc.count += n
	fs.seeValue(fc, value, n)
	return nil
}

// seeValue counts n records holding value, while the field's values are
// counted and below the bound of maxTrackedValues.
func (fs *fieldCounts) seeValue(fc *fieldCounter, value string, n int64) {
	if !fs.values {
		return
	}
	if _, ok := fc.values[value]; ok || len(fc.values) < maxTrackedValues {
		fc.values[value] += n
	}
}

// field is the counter of field name, made when new.
func (fs *fieldCounts) field(name string) (*fieldCounter, error) {
	fc := fs.fields[name]
	if fc == nil {
		if len(fs.fields) >= fs.maxFields {
			return nil, fmt.Errorf("query: field names: more than %d distinct fields (the MaxGroups limit); narrow the query with a filter or a shorter time range", fs.maxFields)
		}
		fc = &fieldCounter{values: map[string]int64{}}
		fs.fields[name] = fc
	}
	return fc, nil
}

func countFields(ctx context.Context, src store.Searcher, q *Query, opts Options, values bool) (*fieldCounts, error) {
	opts = opts.withDefaults()
	opts.ctx = ctx
	fs := newFieldCounts(opts, values)
	err := scan(ctx, src, opts.request(q), func(r *record.Record) error {
		if r.Message != "" {
			if err := fs.see(record.MessageField, r.Message, 1); err != nil {
				return err
			}
		}
		if len(r.Stream) > 0 {
			if err := fs.see(record.StreamField, r.StreamString(), 1); err != nil {
				return err
			}
		}
		for _, list := range [2][]record.Field{r.Stream, r.Fields} {
			for _, f := range list {
				if err := fs.see(f.Name, f.Value, 1); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return fs, nil
}

// stats is the answer: every field with its top values, most common
// field first.
func (fs *fieldCounts) stats(top int) []FieldStats {
	out := make([]FieldStats, 0, len(fs.fields))
	for name, fc := range fs.fields {
		out = append(out, FieldStats{Name: name, Count: fc.count, Top: fc.top(top)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// FieldNamesPartial is an indexer's share of FieldNames: every field with
// its count and the counts of the values it tracked, encoded for
// FieldNamesMerge. values is whether values are wanted (top > 0).
func FieldNamesPartial(ctx context.Context, src store.Searcher, q *Query, opts Options, values bool) ([]byte, error) {
	fs, err := countFields(ctx, src, q, opts, values)
	if err != nil {
		return nil, err
	}
	dst := append([]byte(partialMagic), partialFields)
	dst = binary.AppendUvarint(dst, uint64(len(fs.fields)))
	for name, fc := range fs.fields {
		dst = binary.AppendUvarint(appendString(dst, name), uint64(fc.count))
		dst = binary.AppendUvarint(dst, uint64(len(fc.values)))
		for v, n := range fc.values {
			dst = binary.AppendUvarint(appendString(dst, v), uint64(n))
		}
	}
	return dst, nil
}

// FieldNamesMerge adds up the indexers' FieldNamesPartial answers. Counts
// are exact; values are tracked up to the same bound as on one node.
type FieldNamesMerge struct {
	fs  *fieldCounts
	top int
}

// NewFieldNamesMerge starts a merge for FieldNames(…, opts, top).
func NewFieldNamesMerge(opts Options, top int) *FieldNamesMerge {
	return &FieldNamesMerge{fs: newFieldCounts(opts, top > 0), top: top}
}

// Add merges one indexer's answer.
func (m *FieldNamesMerge) Add(partial []byte) error {
	r, err := openPartial(partial, partialFields)
	if err != nil {
		return err
	}
	for range r.count(2) {
		name, count := r.str(), int64(r.uvarint())
		if r.err != nil {
			return r.err
		}
		fc, err := m.fs.field(name)
		if err != nil {
			return err
		}
		fc.count += count
		for range r.count(2) {
			v, n := r.str(), int64(r.uvarint())
			if r.err != nil {
				return r.err
			}
			m.fs.seeValue(fc, v, n)
		}
	}
	return r.end()
}

// Result is the merged FieldNames answer.
func (m *FieldNamesMerge) Result() []FieldStats { return m.fs.stats(m.top) }

type fieldCounter struct {
	count  int64
	values map[string]int64
}

func (fc *fieldCounter) top(n int) []ValueCount {
	if n <= 0 {
		return nil
	}
	all := make([]ValueCount, 0, len(fc.values))
	for v, c := range fc.values {
		all = append(all, ValueCount{Value: v, Count: c})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].Count != all[j].Count {
			return all[i].Count > all[j].Count
		}
		return all[i].Value < all[j].Value
	})
	if len(all) > n {
		all = all[:n]
	}
	return all
}
