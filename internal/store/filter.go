package store

import (
	"context"

	"github.com/sluice-log/sluice/internal/record"
)

// Filter selects the records a search returns. The query package implements
// it; the store knows nothing of the query language. A search calls its
// methods from several goroutines at once (it reads blocks in parallel), so
// a Filter must be safe for concurrent use.
type Filter interface {
	// Match reports whether r is selected.
	Match(r *record.Record) bool
	// MayMatch reports whether a block with summary b can hold a selected
	// record. Returning false lets the store skip the block without
	// decompressing it, so it must never be false for a block that holds a
	// match; returning true is always safe.
	MayMatch(b BlockSummary) bool
}

// BlockMatcher is an optional extension of Filter for filters that can
// answer for a whole block (or in-memory stream) at once from what all its
// records share, so that the store need not call Match on every row, or
// even read the block. Live tail and other single-record callers keep
// using Match; the answers must agree with it.
type BlockMatcher interface {
	// MatchBlock says whether every record of a block described by b
	// matches (BlockAll), none does (BlockNone), or Match must decide
	// each record (BlockSome, always a correct answer).
	MatchBlock(b *BlockInfo) BlockMatch
}

// FieldFilter is an optional extension of Filter for filters that read a
// single field: Match's answer depends on nothing but the value (or the
// absence) of that field as Record.Get finds it. The store may then call
// Match on a record that holds only the block's tenant and labels and
// that one field (or lacks it): once per distinct value of a dictionary
// column, selecting rows by their code, or once per row of another
// column, without building the rows.
type FieldFilter interface {
	// MatchField names the one field Match reads, or is "" when Match
	// reads more (or the time, or the stream as a whole).
	MatchField() string
}

// ValuesFilter is an optional extension of FieldFilter for filters that
// decide many values of their field in one pass, without a record per
// value: a word filter can then search a whole raw column's bytes at once.
// Like Match, MatchValues is called from several goroutines at once.
type ValuesFilter interface {
	Filter
	FieldFilter
	// MatchValues sets match[i] to what Match answers for a record whose
	// field (the one MatchField names) holds vs.Values[i]. len(match) is
	// len(vs.Values).
	MatchValues(vs Values, match []bool)
}

// Values is a column's values in row order (the rows that have the
// field), laid out so that a filter can scan them in one pass: Values[i]
// are substrings of Data, back to back (Values[0] starts at Data[0], each
// starts where the one before ends, the last ends at len(Data)).
type Values struct {
	Data   string
	Values []string
}

// TokenFilter is an optional extension of FieldFilter for filters that
// select by words: every value Match accepts holds each token WholeTokens
// gives as a whole token (as record.Tokens makes them, lowercased), and a
// record without the field is never selected; what MayMatch already
// relies on when it asks the bloom filters. The store asks a block's
// bloom filter about the tokens itself, hashed once per search, before
// MayMatch (which then sees only the blocks the filter lets through); and
// it may rule out a read block whose column cannot hold the tokens
// without decoding it: every value of a hex column (ids, FORMAT.md) is
// one token, so it must be the token itself, compared as the bytes it
// spells. The bloom filters' false positives on high-cardinality ids are
// such blocks.
type TokenFilter interface {
	FieldFilter
	// WholeTokens returns the tokens; none when the filter knows of none
	// (then Match decides every row).
	WholeTokens() []string
}

// PresenceFilter is an optional extension of FieldFilter for filters whose
// answer depends only on whether the record's field holds a non-empty
// value (`trace_id:*`, `NOT trace_id:*`), not on what the value is. The
// store may then decide a whole block from its column directory, which
// says when every row holds one, or from its index entry, which says when
// none has the field, without reading the column.
type PresenceFilter interface {
	FieldFilter
	// PresenceOnly reports whether Match depends on nothing but that.
	PresenceOnly() bool
}

// NumberFilter is an optional extension of FieldFilter for filters that
// compare their field as a number (`latency_ms:>1000`): for a record whose
// field holds a plain decimal such as 12.345, Match's answer depends only
// on the float64 that strconv.ParseFloat reads from it. The store then
// decides the rows of a decimal column (FORMAT.md) from its numbers,
// without their text.
type NumberFilter interface {
	FieldFilter
	// NumbersOnly reports whether that holds.
	NumbersOnly() bool
	// MatchNumbers sets match[i] to Match's answer for a record whose
	// field holds the text of xs[i]; len(match) == len(xs).
	MatchNumbers(xs []float64, match []bool)
}

// BlockInfo is what is certain about every record of a block: its tenant
// and stream labels are the block's, and its time lies in [MinTime,
// MaxTime].
type BlockInfo struct {
	Tenant           string
	Labels           []record.Field // sorted by name, like record.Record.Stream
	MinTime, MaxTime int64
}

// BlockMatch is a BlockMatcher's answer.
type BlockMatch uint8

const (
	BlockSome BlockMatch = iota // decided record by record
	BlockAll                    // every record matches
	BlockNone                   // no record matches
)

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
	// Count, when not nil, lets the store pass n records at once instead
	// of calling fn for each: it may call Count(r, n, times) for records
	// that all match and whose only fields fn reads are stream labels,
	// where r holds their tenant and stream labels and nothing else (no
	// message or fields; a time only as CountBucket says). The caller promises that fn reads no more
	// of a record than Fields names, and nothing of its time unless
	// CountTimes is set; the store calls Count only when every name in
	// Fields is a stream label of those records. A `stats count()` grouped
	// by nothing or by stream labels then costs one call per block instead
	// of one per record, and needs no block read.
	Count func(r *record.Record, n int, times []int64) error
	// CountFields, when not nil, names the only fields fn reads, when that
	// is fewer than Fields (which adds what Filter reads). The store may
	// then also call Count for matching records that share the values of
	// these fields, with r holding those values besides the tenant and
	// stream labels: the rows of a block grouped by the codes of a
	// dictionary column, selected by a FieldFilter's answer per code.
	// nil means Fields. The values in r are valid during the call only
	// (they are views of a block's buffer, which the search may reuse
	// for the next block): Count copies what it keeps.
	CountFields []string
	// CountValues, when not nil beside Count, takes at once what Count
	// would be given one call per value for the rows of one block grouped
	// by a raw (not dictionary-coded) column: for each i, counts[i]
	// matching records whose field is values[i], with r as for Count
	// (tenant and stream labels). values are views of the block's buffer,
	// valid during the call only. A group-by on ids (trace ids) hands a
	// block's values over in one call (and, in a parallel search, under
	// one lock) instead of one per value.
	CountValues func(r *record.Record, field string, values []string, counts []int) error
	// CountTimes asks for the records' times in Count's times (n of them,
	// valid during the call only); without it times is nil. A histogram
	// (`stats count() by _time:1m`) reads only a block's time column then.
	CountTimes bool
	// CountBucket, with CountTimes, is the length in ns of the buckets,
	// aligned to the Unix epoch, that the caller groups the times by
	// (`stats count() by _time:1h`). The store may then pass records
	// whose times all lie in one bucket as Count(r, n, nil) with r.Time
	// one of their times, without reading their times at all: a block
	// inside one bucket (blocks are cut at UTC hours, so with hourly or
	// daily buckets every one) or within a minute with minute buckets.
	CountBucket int64
	// MaxScannedRecords and MaxScannedBytes bound the search's cost: the
	// records it decodes (the rows of every block it reads and the head
	// records it visits; blocks counted from the index alone cost none)
	// and the bytes it reads from parts. Past either, Search stops with a
	// *ScanLimitError. 0 means no bound.
	MaxScannedRecords, MaxScannedBytes int64
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
	BlocksRejected     int64 // of BlocksRead: ruled out by the filter's field column without decoding it (TokenFilter on a hex column)
	BytesRead          int64 // compressed bytes read from parts
	HeadRecords        int64 // records scanned in memory (not yet in parts)
	RecordsMatched     int64 // records passed to fn or counted by Count
	// The block-level answers of a BlockMatcher filter:
	BlocksSkippedStream int64 // ruled out by the filter on the block's stream labels or time span
	BlocksWhole         int64 // every record matched: no row checked by Match
	BlocksCounted       int64 // wholly matching blocks passed to Count without being read
	RecordsCounted      int64 // matching records passed to Count (parts and head), not one by one
	BlocksByCode        int64 // read blocks whose rows one column's values selected or grouped (a dictionary's once per distinct value) without building records
	RecordsScanned      int64 // records of the blocks read and in-memory records visited: what query.max_scanned_records counts, a query's cost
	// Skipped are the parts the search could not read (quarantined), each
	// once: an answer that lacks their records is partial. Not part of
	// the cost (explain shows them as the answer's partial member).
	Skipped []SkippedPart `json:"-"`
}

// Searcher is the read side of a store, the small interface the query engine
// depends on. An Elasticsearch/OpenSearch backend can implement it too.
type Searcher interface {
	// Search calls fn for every record that matches req, in no particular
	// order, until fn returns an error (which Search returns) or the records
	// run out. fn must not retain r after it returns (use r.Clone()).
	Search(ctx context.Context, req SearchRequest, fn func(r *record.Record) error) error
}
