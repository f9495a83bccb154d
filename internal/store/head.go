package store

import (
	"github.com/sluice-log/sluice/internal/record"
)

// head is the in-memory, not yet durable tail of the store. Records are only
// ever appended, so a search can read a prefix of recs without a lock while
// appends continue past it. A frozen head (being flushed) never changes.
type head struct {
	recs    []record.Record
	bytes   int64
	lastSeq uint64
}

// copyRecords deep-copies recs so that the caller may reuse its slices,
// sorting each record's fields by name so that a record reads back the same
// from the head and from a part (whose columns are sorted by name).
func copyRecords(recs []record.Record) ([]record.Record, int64) {
	n := 0
	for i := range recs {
		n += len(recs[i].Stream) + len(recs[i].Fields)
	}
	slab := make([]record.Field, 0, n)
	out := make([]record.Record, len(recs))
	var size int64
	for i := range recs {
		r := recs[i]
		start := len(slab)
		slab = append(slab, r.Stream...)
		r.Stream = slab[start:len(slab):len(slab)]
		start = len(slab)
		slab = append(slab, r.Fields...)
		r.Fields = slab[start:len(slab):len(slab)]
		sortFields(r.Fields)
		out[i] = r
		size += int64(r.Size())
	}
	return out, size
}

// sortFields is an insertion sort: records have few fields, usually sorted.
func sortFields(fs []record.Field) {
	for i := 1; i < len(fs); i++ {
		for j := i; j > 0 && fs[j].Name < fs[j-1].Name; j-- {
			fs[j], fs[j-1] = fs[j-1], fs[j]
		}
	}
}
