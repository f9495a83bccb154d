// Package store is Sluice's embedded log store: an in-memory head that makes
// appended records searchable at once, immutable compressed parts on disk
// grouped into daily UTC partitions, background merging of small parts,
// retention by whole partitions, and a hash-chained manifest that makes every
// change to the set of parts tamper-evident (see FORMAT.md).
//
// The store owns its data directory and the on-disk formats. It must not know
// the query language (it sees only the Filter interface of filter.go), the
// write-ahead log (it only carries the WAL sequence number the caller hands
// it, so that the caller knows what it may trim), nor HTTP or any protocol.
package store
