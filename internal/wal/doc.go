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
// A segment is a sequence of entries with nothing before, between or after
// them: a header, then batches, each its records followed by its commit:
//
//	+----------------+-----------------+--------------------------------------+
//	| length (u32 LE)| CRC-32C (u32 LE)| payload (length & 0x7fffffff bytes)  |
//	+----------------+-----------------+--------------------------------------+
//	record:  length < 2^31; payload = uvarint seq | record.AppendBinaryShared(record, shared)
//	         (format 2: uvarint seq | record.AppendBinary(record))
//	control: length has bit 31 set; payload = kind byte | …
//	  header (kind 1): version (3; 2 is still read) | flags (bit 0: batches are signed)
//	  commit (kind 2): uvarint first seq | uvarint last seq | sig length (0 or 64) | sig
//	  gap    (kind 3): uvarint first seq | uvarint last seq | sig length | sig
//	  shared (kind 4, format 3): record.AppendShared(shared)
//
// In format 3 each Append's records come after a shared entry: their
// tenant, and the fields that every one of them has at the same position
// with the same value (record.FindShared), stored once; each record is
// stored without them and decoded against the last shared entry of its
// batch (an Append of several tenants has one per run of a tenant). A
// bulk request's index name, or a tenant name of any length, thus costs
// its bytes once per request, not per record. Format 2 stored every record
// whole; its segments are read as before, and a log opened on one appends
// to a new segment (an empty one is rewritten with the new header).
//
// The CRC (Castagnoli polynomial) covers the payload only. A length of 0 or
// above MaxEntrySize (64 MiB) is invalid. Sequence numbers start at 1 and are
// consecutive within a segment, starting at the segment's name, and across
// segments: a segment's name is one more than the previous segment's last
// seq. Sequence numbers never go back, even when every segment has been
// released, because the directory always keeps at least one segment whose
// name is the next seq to assign. A gap entry, written only by Repair,
// records seqs lost to damage; the next record follows its last seq.
//
// A batch is one group commit: the records of every Append that shared one
// write. Its commit names the batch's first and last seq and, with
// Options.SigningKey, carries an ed25519 signature of "sluice wal batch
// v1\0" | first (u64 BE) | last (u64 BE) | sha256 of the batch's record
// and shared entries as written, in order (headers included). A gap's signature covers "sluice
// wal gap v1\0" | first | last. A segment without a header is of the first
// format (records only, before batches existed): it is read, never
// appended to, and refused when a signing key is set.
//
// # Crash safety
//
// One Append's batch is written with a single write call together with its
// commit, and Append returns only after an fsync that covers both. A crash
// can therefore leave only a torn tail in the last segment: a short entry, a
// bad length, a bad CRC, garbage (such as zeros) after the last entry, or
// records whose commit was never written. Open truncates that tail after
// the last commit and logs how many bytes it dropped, so a batch is
// replayed whole or not at all. Damage anywhere else (an earlier segment,
// a well-formed entry with the wrong seq, a commit that does not match its
// records, a missing or invalid signature) is reported as an error wrapping
// ErrCorrupt or ErrSignature that names the file and byte offset: it is
// never skipped silently. A write or fsync that fails at run time (a full
// disk) is undone by truncating the segment back to where the batch began:
// the batch is answered with ErrWrite and the log goes on. After each
// group's fsync the log fstats the active segment (one call per group
// commit): if the file has no name left (it, or the directory, was removed
// while open), the group is answered with ErrRemoved rather than
// acknowledged, and so is every later Append until a restart.
//
// New segment files and deletions are made durable by fsyncing the
// directory. Segments are deleted oldest first, so a crash during Release
// leaves a contiguous suffix of the log.
package wal
