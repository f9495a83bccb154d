package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/sluice-log/sluice/internal/record"
)

// maxDecoderMemory bounds what one zstd frame may decompress to.
const maxDecoderMemory = 1 << 30

// Store is an embedded log store rooted at one directory. All methods are
// safe for concurrent use.
//
// Locks, always taken in this order: flushMu (one flush at a time), laneMu
// (one merge at a time per lane, small before big), commitMu (manifest
// appends and file removals), mu
// (the in-memory view that searches snapshot). mu is held only briefly, so
// Append never waits for disk I/O.
type Store struct {
	dir  string
	opts Options
	log  *slog.Logger
	enc  *zstd.Encoder // flushes
	menc *zstd.Encoder // merges whose output stays: a higher level (Options.MergeZstdLevel)
	senc *zstd.Encoder // merges of small parts, which will be merged again: the flushes' level
	// policy decides which parts to merge (merge_policy.go).
	policy mergePolicy
	dec    *zstd.Decoder
	pio    *partIO // the file and index caches parts read through

	flushMu  sync.Mutex
	laneMu   [numLanes]sync.Mutex
	commitMu sync.Mutex
	man      *manifest
	nextName uint64 // guarded by commitMu

	mu          sync.RWMutex
	active      *head
	frozen      []*head                     // heads being flushed, oldest first
	parts       map[string]map[string]*part // partition -> name -> part
	quarantined map[string]quarantinedPart  // by partRef.id(): live in the manifest, not served
	merging     map[*part]bool              // parts a merge is reading
	durable     atomic.Uint64
	closed      bool
	searches    sync.WaitGroup // searches in flight, which Close waits for
	scratch     sync.Pool      // *blockScratch, reused across searches
	// lastAppend is when Append last took records (see quietLocked).
	lastAppend time.Time

	blocksRead        atomic.Int64
	blocksSkipped     atomic.Int64
	merges            atomic.Int64
	assists           atomic.Int64 // AssistMerges calls that merged
	flushedBytes      atomic.Int64 // bytes of the parts flushes wrote
	mergedBytes       atomic.Int64 // bytes of the parts merges wrote
	mergeBlocks       atomic.Int64 // blocks merges wrote
	mergeBlocksCopied atomic.Int64 // of them, copied whole
	mergeBlocksKept   atomic.Int64 // of those, their stored bytes kept as they were
	mergeBufferBytes  atomic.Int64 // see Stats.MergeBufferBytes

	// checks is the first-read sha256 checks in flight (checkFirstRead),
	// which run apart from the reads that wait for them. lifeCtx ends when
	// the store closes (endLife), which ends them and the searches in
	// flight.
	checks  sync.WaitGroup
	lifeCtx context.Context
	endLife context.CancelFunc

	scrubMu       sync.Mutex
	scrub         scrubQueue
	scrubbed      atomic.Int64 // parts hashed in full since Open
	scrubFailures atomic.Int64 // of which did not match
	scrubBytes    atomic.Int64
}

// Stats describes the store at one moment.
type Stats struct {
	Parts         int
	Partitions    int
	DiskBytes     int64
	Records       int64 // in parts
	HeadRecords   int64 // in memory, not yet flushed
	BlocksRead    int64 // blocks decompressed by searches
	BlocksSkipped int64 // blocks ruled out by time, tenant or filter
	Merges        int64
	// FlushedBytes and MergedBytes are the bytes of the parts that
	// flushes and merges wrote since the store was opened: their ratio is
	// the write amplification of merging, (Flushed+Merged)/Flushed in all.
	FlushedBytes int64
	MergedBytes  int64
	// MergeBlocks counts the blocks merges wrote, MergeBlocksCopied those
	// of them written as they were read, their columns only compressed
	// again (see mergeInto), MergeBlocksKept those of the copied whose
	// stored bytes were written as they were, not even recompressed
	// (partIter.copyTo).
	MergeBlocks       int64
	MergeBlocksCopied int64
	MergeBlocksKept   int64
	// MergeBufferBytes is the memory the running merges hold in blocks
	// read, in the buffers they read and decompress into and in the
	// copies of the values their output's current block keeps (see
	// mergeInto, blockBuilder.keep): at most one block per input being
	// merged, two buffers and one output block's values per merge, a
	// block being at most maxBlockRawBytes raw.
	MergeBufferBytes int64
	// MergeAssists counts the flushes after which the flusher merged
	// because the background merges had fallen behind (AssistMerges).
	MergeAssists int64
	// MergesPending counts the partitions a merge round would merge now
	// or once they are idle (Options.IdleMergeAfter).
	MergesPending int
	// IndexBytes is about the memory the parts' indexes take: what the
	// index cache holds (block metadata, bloom filters, numeric ranges,
	// the block headers searches keep, meta-indexes), bounded by
	// Options.IndexCacheBytes, and the summary each served part keeps.
	IndexBytes int64
	IndexCache IndexCacheStats
	Files      FileCacheStats
	// PartsUnverified counts served parts whose sha256 this process has
	// not checked yet (see Scrub); PartsScrubbed the parts it hashed in
	// full since it opened, ScrubFailures those that did not match.
	PartsUnverified int
	PartsScrubbed   int64
	ScrubFailures   int64
	ScrubBytes      int64
	// Quarantined counts parts live in the manifest but not served because
	// their files failed a check (on open, or on a read since).
	Quarantined int
	// ManifestReplayed is how many manifest entries Open replayed: at most
	// Options.ManifestCheckpointEntries and a checkpoint, however long
	// the history.
	ManifestReplayed int
}

func newCodecs(level int) (*zstd.Encoder, *zstd.Decoder, error) {
	enc, err := newEncoder(level, runtime.GOMAXPROCS(0))
	if err != nil {
		return nil, nil, err
	}
	dec, err := newDecoder(maxDecoderMemory)
	if err != nil {
		enc.Close()
		return nil, nil, err
	}
	return enc, dec, nil
}

// newEncoder returns the zstd encoder of part columns and indexes at level
// (1 fastest … 11 smallest). A part writer compresses one column at a time,
// so concurrency is how many writers may compress at once; each slot keeps
// its own match tables (megabytes at the higher levels).
func newEncoder(level, concurrency int) (*zstd.Encoder, error) {
	// A column is at most a block's 4 MiB, so a 1 MiB window loses little
	// ratio, and with lower-memory tables it keeps the encoders' history
	// buffers (the largest item of the heap after the head, in profiles of
	// a 3M-record ingest) small. Parts measured the same size either way.
	//
	// No frame checksum: every frame a part holds (a column, an index
	// chunk, the meta-index) has its own xxhash64 over its stored bytes,
	// checked before it is decompressed, so zstd's would hash the same
	// data a second time on every write and read (2–4% of a word
	// search's CPU) and take 4 bytes a frame.
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(level)),
		zstd.WithEncoderConcurrency(concurrency), zstd.WithWindowSize(1<<20), zstd.WithLowerEncoderMem(true),
		zstd.WithEncoderCRC(false))
	if err != nil {
		return nil, fmt.Errorf("create zstd encoder at level %d: %w", level, err)
	}
	return enc, nil
}

// newDecoder returns the decoder of part columns and indexes. It does not
// check frames' checksums: whatever it decompresses was checked against
// its own xxhash64 first, but for a version 2 part's index, which
// loadIndexV2 checks by its frame checksum itself (checkFrameSum).
func newDecoder(maxMem uint64) (*zstd.Decoder, error) {
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(maxMem),
		zstd.IgnoreChecksum(true))
	if err != nil {
		return nil, fmt.Errorf("create zstd decoder: %w", err)
	}
	return dec, nil
}

// Append copies recs into the in-memory head, where searches see them at
// once. lastSeq is the WAL sequence number of the last record of recs; it
// becomes durable with the next Flush.
func (s *Store) Append(recs []record.Record, lastSeq uint64) {
	s.mu.Lock()
	h := s.active
	h.appendBatch(recs)
	h.lastSeq = max(h.lastSeq, lastSeq)
	s.lastAppend = time.Now()
	s.mu.Unlock()
}

// Head is the manifest's last entry: its sequence number and chain hash,
// which covers the whole history before it.
func (s *Store) Head() Anchor { return *s.man.head.Load() }

// Signing reports whether the store signs its manifest entries.
func (s *Store) Signing() bool { return s.man.key != nil }

// DurableSeq is the WAL sequence number up to which records are in
// committed parts.
func (s *Store) DurableSeq() uint64 { return s.durable.Load() }

// HeadBytes is the memory that records not yet flushed take (their encoded
// size plus the head's bookkeeping).
func (s *Store) HeadBytes() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := s.active.bytes
	for _, h := range s.frozen {
		n += h.bytes
	}
	return n
}

// Stats returns counters and sizes.
func (s *Store) Stats() Stats {
	st := Stats{
		BlocksRead:        s.blocksRead.Load(),
		BlocksSkipped:     s.blocksSkipped.Load(),
		Merges:            s.merges.Load(),
		FlushedBytes:      s.flushedBytes.Load(),
		MergedBytes:       s.mergedBytes.Load(),
		MergeBlocks:       s.mergeBlocks.Load(),
		MergeBlocksCopied: s.mergeBlocksCopied.Load(),
		MergeBlocksKept:   s.mergeBlocksKept.Load(),
		MergeAssists:      s.assists.Load(),
		MergeBufferBytes:  s.mergeBufferBytes.Load(),
	}
	st.ManifestReplayed = s.man.replayed
	st.IndexCache = s.pio.index.stats()
	st.Files = s.pio.files.stats()
	st.PartsScrubbed = s.scrubbed.Load()
	st.ScrubFailures = s.scrubFailures.Load()
	st.ScrubBytes = s.scrubBytes.Load()
	st.IndexBytes = st.IndexCache.Bytes
	s.mu.RLock()
	defer s.mu.RUnlock()
	st.HeadRecords = s.active.records
	for _, h := range s.frozen {
		st.HeadRecords += h.records
	}
	st.Quarantined = len(s.quarantined)
	st.MergesPending = s.mergesPendingLocked()
	st.Partitions = len(s.parts)
	for _, ps := range s.parts {
		for _, p := range ps {
			st.Parts++
			st.DiskBytes += p.size
			st.Records += p.records
			st.IndexBytes += partSummaryBytes
			if !p.verified.Load() {
				st.PartsUnverified++
			}
		}
	}
	return st
}

// Close releases the store's files. It does not flush the head: the caller
// flushes first, or replays its WAL from DurableSeq on the next start.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true // no search, flush, merge or first-read check starts now
	s.mu.Unlock()
	// The searches and first-read checks in flight are ended (a search
	// then fails with errClosed, rather than running to its deadline) and
	// waited for before any lock is taken: one that finds a part damaged
	// quarantines it, which takes commitMu.
	s.endLife()
	s.checks.Wait()
	s.searches.Wait()
	// Then the flush and merges in flight end (none starts now).
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	for i := range s.laneMu {
		s.laneMu[i].Lock()
		defer s.laneMu[i].Unlock()
	}
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	s.mu.Lock()
	for _, ps := range s.parts {
		for _, p := range ps {
			p.decRef()
		}
	}
	s.parts = nil
	s.mu.Unlock()
	s.enc.Close()
	s.menc.Close()
	s.senc.Close()
	s.dec.Close()
	if err := s.man.f.Close(); err != nil {
		return fmt.Errorf("close manifest: %w", err)
	}
	return nil
}

// errClosed is returned by operations on a closed store.
var errClosed = errors.New("store: closed")

// levelOf is the zstd level enc, one of the store's encoders, compresses
// at (Options.ZstdLevel or MergeZstdLevel); 0 (not known) for any other.
// Every encoder of the store has the same options but its level, so two
// of equal level write the same bytes (sameZstdLevel).
func (s *Store) levelOf(enc *zstd.Encoder) int {
	switch {
	case enc == nil:
		return 0
	case enc == s.menc:
		return s.opts.MergeZstdLevel
	case enc == s.enc || enc == s.senc:
		return s.opts.ZstdLevel
	}
	return 0
}

// sameZstdLevel reports whether zstd levels a and b, both known, make
// the store's encoders compress alike: the encoder has fewer levels than
// zstd (1 and 2 are its fastest, for one), and it is its level that
// decides the bytes.
func sameZstdLevel(a, b int) bool {
	return a > 0 && b > 0 && zstd.EncoderLevelFromZstd(a) == zstd.EncoderLevelFromZstd(b)
}
