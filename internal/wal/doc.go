// Package wal is Sluice's durable write-ahead log: receivers append batches
// of records to it and may acknowledge their clients once Append returns,
// because by then the records are written and fsynced. The pipeline replays
// the log into the store and releases what the store has made durable.
//
// The package owns the segment files in its directory, sequence numbers,
// group commit, crash recovery and the size bound that turns into
// backpressure (ErrFull). It must not know about receivers, protocols, the
// store or HTTP; it only knows records and their binary codec.
//
// # On-disk format
//
// The directory holds segment files named by the sequence number of the
// first record they hold (or will hold), as 20 decimal digits:
//
//	00000000000000000042.wal
//
// A segment is a sequence of entries, one per record, with nothing before,
// between or after them:
//
//	+----------------+----------------+---------------------------------------+
//	| length (u32 LE)| CRC-32C (u32 LE)| payload (length bytes)               |
//	+----------------+----------------+---------------------------------------+
//	payload = uvarint seq | record.AppendBinary(record)
//
// The CRC (Castagnoli polynomial) covers the payload only. A length of 0 or
// above MaxEntrySize (64 MiB) is invalid. Sequence numbers start at 1 and are
// consecutive within a segment, starting at the segment's name, and across
// segments: a segment's name is one more than the previous segment's last
// seq. Sequence numbers never go back, even when every segment has been
// released, because the directory always keeps at least one segment whose
// name is the next seq to assign.
//
// # Crash safety
//
// One Append writes its whole batch with a single write call and returns
// only after an fsync that covers it. A crash can therefore leave only a
// torn tail in the last segment: a short entry, a bad length, a bad CRC or
// garbage (such as zeros) after the last entry. Open truncates that tail at
// the last good entry and logs how many bytes it dropped. Damage anywhere
// else (an earlier segment, or a well-formed entry with the wrong seq) is
// reported as an error wrapping ErrCorrupt that names the file and byte
// offset: it is never skipped silently.
//
// New segment files and deletions are made durable by fsyncing the
// directory. Segments are deleted oldest first, so a crash during Release
// leaves a contiguous suffix of the log.
package wal
