package query

import (
	"context"
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
	opts = opts.withDefaults()
	fields := map[string]*fieldCounter{}
	see := func(name, value string) error {
		fc := fields[name]
		if fc == nil {
			if len(fields) >= opts.MaxGroups {
				return fmt.Errorf("query: field names: more than %d distinct fields (the MaxGroups limit); narrow the query with a filter or a shorter time range", opts.MaxGroups)
			}
			fc = &fieldCounter{values: map[string]int64{}}
			fields[name] = fc
		}
		fc.count++
		if top <= 0 {
			return nil
		}
		if _, ok := fc.values[value]; ok || len(fc.values) < maxTrackedValues {
			fc.values[value]++
		}
		return nil
	}
	err := scan(ctx, src, opts.request(q), func(r *record.Record) error {
		if r.Message != "" {
			if err := see(record.MessageField, r.Message); err != nil {
				return err
			}
		}
		if len(r.Stream) > 0 {
			if err := see(record.StreamField, r.StreamString()); err != nil {
				return err
			}
		}
		for _, list := range [2][]record.Field{r.Stream, r.Fields} {
			for _, f := range list {
				if err := see(f.Name, f.Value); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]FieldStats, 0, len(fields))
	for name, fc := range fields {
		out = append(out, FieldStats{Name: name, Count: fc.count, Top: fc.top(top)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

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
