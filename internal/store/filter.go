package store

import (
	"context"

	"github.com/sluice-log/sluice/internal/record"
)

// Filter selects the records a search returns. The query package implements
// it; the store knows nothing of the query language.
type Filter interface {
	// Match reports whether r is selected.
	Match(r *record.Record) bool
	// MayMatch reports whether a block with summary b can hold a selected
	// record. Returning false lets the store skip the block without
	// decompressing it, so it must never be false for a block that holds a
	// match; returning true is always safe.
	MayMatch(b BlockSummary) bool
}

// BlockSummary is what the store knows about a block of records without
// decompressing it. Every answer may be a false positive, never a false
// negative.
type BlockSummary interface {
	// MayHaveField is false when no record of the block has the field.
	MayHaveField(field string) bool
	// MayContainToken is false when no value of field in the block holds the
	// token (as record.Tokens makes it). Use record.MessageField for the
	// message.
	MayContainToken(field, token string) bool
	// NumRange gives the least and greatest numeric value of field in the
	// block; ok is false when the store does not know them.
	NumRange(field string) (min, max float64, ok bool)
}

// SearchRequest says which records a search visits.
type SearchRequest struct {
	// Tenant selects one tenant's records; "" is the default tenant.
	Tenant string
	// From and To bound the record time in Unix nanoseconds: From <= t < To.
	// A zero To means no upper bound.
	From, To int64
	// Filter selects records; nil selects all.
	Filter Filter
	// Stats, when not nil, receives what the search did (for explain and
	// metrics). The store adds to it; the caller owns it.
	Stats *SearchStats
	// Fields, when not nil, names the only fields that Filter and fn read
	// (record.MessageField for the message): the store may then leave the
	// message and every other non-stream field out of the records it
	// passes, which saves building them for every row. Time, tenant and
	// stream labels are always set. nil passes every field; an empty,
	// non-nil slice suits `stats count()` over the time range alone.
	Fields []string
}

// SearchStats counts the work of one search: what was considered, what the
// time range, the stream/tenant and the index let it skip, and what it read.
type SearchStats struct {
	Partitions         int64 // daily partitions in the store
	PartitionsSkipped  int64 // ruled out by the time range
	Parts              int64 // parts in the partitions searched
	PartsSkipped       int64 // ruled out by their time range
	Blocks             int64 // blocks in the parts searched
	BlocksSkippedTime  int64 // ruled out by time or tenant
	BlocksSkippedIndex int64 // ruled out by Filter.MayMatch (bloom filters, field presence, min/max)
	BlocksRead         int64 // decompressed
	BytesRead          int64 // compressed bytes read from parts
	HeadRecords        int64 // records scanned in memory (not yet in parts)
	RecordsMatched     int64 // records passed to fn
}

// Searcher is the read side of a store, the small interface the query engine
// depends on. An Elasticsearch/OpenSearch backend can implement it too.
type Searcher interface {
	// Search calls fn for every record that matches req, in no particular
	// order, until fn returns an error (which Search returns) or the records
	// run out. fn must not retain r after it returns (use r.Clone()).
	Search(ctx context.Context, req SearchRequest, fn func(r *record.Record) error) error
}
