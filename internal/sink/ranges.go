package sink

import "slices"

// Ranges are inclusive offset ranges [first, last] of one partition, in
// order, neither overlapping nor adjacent: a compact account of which
// records a store holds. One range per stretch an indexer consumed the
// partition without a break; a partition that moved between indexers
// and back has one range per stay.
type Ranges [][2]int64

// Add records that [first, last] is held. When joined is set (the
// consumer read every offset between the end of the last range and
// first, and none of them is stored, because they were dead-lettered or
// hold no record) the last range grows to last; otherwise the range is
// merged only with ranges it overlaps or touches.
func (r Ranges) Add(first, last int64, joined bool) Ranges {
	if first > last {
		return r
	}
	if n := len(r); n > 0 && joined && r[n-1][1] < first {
		r[n-1][1] = max(r[n-1][1], last)
		return r
	}
	out := make(Ranges, 0, len(r)+1)
	i := 0
	for ; i < len(r) && r[i][1] < first-1; i++ {
		out = append(out, r[i])
	}
	for ; i < len(r) && r[i][0] <= last+1; i++ {
		first, last = min(first, r[i][0]), max(last, r[i][1])
	}
	out = append(out, [2]int64{first, last})
	return append(out, r[i:]...)
}

// Clone returns a copy that Add on either does not affect.
func (r Ranges) Clone() Ranges { return slices.Clone(r) }
