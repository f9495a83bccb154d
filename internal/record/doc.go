// Package record defines the unit of data that flows through Sluice: one log
// line with its timestamp, tenant, stream labels, message and fields, together
// with its binary codec (used by the write-ahead log and the store) and the
// tokenizer that full-text search and the store's token index share.
//
// Receivers normalise their protocols into records; nothing downstream knows
// which protocol a record came in by. This package must not import any other
// Sluice package.
package record
