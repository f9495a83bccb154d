package store

import (
	"crypto/ed25519"
	"time"
)

// Options tunes a Store. Zero values take the defaults.
type Options struct {
	// BlockRecords is the most records one block holds; default 8192.
	BlockRecords int
	// MergeFanIn is how many parts of one size tier a merge combines
	// (see mergePolicy): a tier holding this many parts is merged. Higher
	// rewrites each byte fewer times (write amplification about
	// log_MergeFanIn of a partition's size over 1 MiB) and leaves more parts
	// (up to MergeFanIn−1 per tier); default 8.
	MergeFanIn int
	// ZstdLevel is the zstd compression level of the columns of flushed
	// parts; default 1, so that a flush frees the head and the WAL soon.
	ZstdLevel int
	// MergeZstdLevel is the zstd compression level of the columns of
	// merged parts; default 7. Merges run in the background and their
	// output lives long, so a slower level that stores fewer bytes pays.
	MergeZstdLevel int
	// IdleMergeAfter is how long a partition must go without a flushed
	// part (a merged part counts as added when its newest input was)
	// before Merge merges its parts further (see mergePolicy.finalMerge),
	// or the store goes quiet first (QuietAfter); default 30s, negative
	// turns it off.
	IdleMergeAfter time.Duration
	// QuietAfter is how long the store must take no record, with every
	// record it took flushed, before every partition counts as idle
	// (mergePolicy.idle): the end of a backfill or a burst, which a node
	// under ingest never sees. The server passes store.flush_interval;
	// default 5s, negative turns it off.
	QuietAfter time.Duration
	// ManifestCheckpointEntries is how many entries the manifest may hold
	// before a commit checkpoints it (see manifest.checkpoint), which
	// bounds what Open replays; default 1000.
	ManifestCheckpointEntries int
	// SigningKey, when set, signs every manifest entry (ed25519 over its
	// chain hash), and Open refuses a manifest whose entries after the
	// first signed one are not all signed with it. The key must not be
	// kept in the store's directory.
	SigningKey ed25519.PrivateKey
	// IndexCacheBytes bounds the memory of the parts' index structures
	// (see indexCache); default 64 MiB.
	IndexCacheBytes int64
	// MaxOpenFiles bounds the part files open for reading at once (see
	// fileCache); default a quarter of RLIMIT_NOFILE.
	MaxOpenFiles int

	// noBlockCopy makes merges decode and re-add every block instead of
	// copying those they need not combine (see mergeInto), for the tests
	// and benchmarks that compare the two.
	noBlockCopy bool
	// scribbleDropped makes a merge input overwrite the block it decoded
	// as it drops it (partIter.dropBlock), as a reuse of its memory
	// would: a merge that still used a dropped block's bytes writes
	// them wrong (TestMergeLetsGoOfInputBlocks).
	scribbleDropped bool
}

const (
	defaultBlockRecords = 8192
	defaultMergeFanIn   = 8
	defaultZstdLevel    = 1
	// defaultMergeZstdLevel: on the bench data, level 7 stores 14% fewer
	// bytes than level 1 for about 1 µs more CPU per record; level 11
	// saves 1% more for four times the CPU (BenchmarkPartBytesGen).
	defaultMergeZstdLevel = 7
	// defaultIdleMergeAfter: several flush intervals (5 s by default),
	// so that a partition still receiving records is not merged whole.
	defaultIdleMergeAfter = 30 * time.Second
	// defaultQuietAfter: the server's default flush interval.
	defaultQuietAfter = 5 * time.Second
	// defaultManifestCheckpointEntries: replaying 1000 entries takes
	// milliseconds, and a flush every 5 s makes one checkpoint every
	// 80 minutes or so, each writing the live set once.
	defaultManifestCheckpointEntries = 1000
	// defaultIndexCacheBytes is the index cache of a store opened without
	// a bound; the server derives one from memory_limit.
	defaultIndexCacheBytes = 64 << 20
	// maxBlockRawBytes cuts a block early when its records are large, which
	// bounds the memory one block read needs.
	maxBlockRawBytes = 4 << 20
	// blockSpan and blockSpanMinRecords cut a stream's block at a UTC
	// hour boundary once it holds blockSpanMinRecords records, so that a
	// query over an hour of a day's part reads the blocks of that hour
	// rather than every block of the day: a stream of fewer than 8192
	// records a day was one block spanning the whole partition, read by
	// every query of any time range. Sparser streams keep blocks of at
	// least blockSpanMinRecords records, whose per-block costs (index
	// entry, bloom filter, column headers) stay a small share of a block:
	// with 256, bench/gen's 300k records a day took 9% more bytes on disk
	// and twice the blocks (docs/storage.md).
	blockSpan           = int64(time.Hour)
	blockSpanMinRecords = 1024
	// maxMergeFanIn bounds how many parts one merge reads at once.
	maxMergeFanIn = 16
)

func (o Options) withDefaults() Options {
	if o.BlockRecords <= 0 {
		o.BlockRecords = defaultBlockRecords
	}
	if o.MergeFanIn < 2 {
		o.MergeFanIn = defaultMergeFanIn
	}
	// A tier's merge must read all fan-in parts to land a tier higher.
	o.MergeFanIn = min(o.MergeFanIn, maxMergeFanIn)
	if o.ZstdLevel <= 0 {
		o.ZstdLevel = defaultZstdLevel
	}
	if o.MergeZstdLevel <= 0 {
		o.MergeZstdLevel = defaultMergeZstdLevel
	}
	if o.IndexCacheBytes <= 0 {
		o.IndexCacheBytes = defaultIndexCacheBytes
	}
	if o.MaxOpenFiles <= 0 {
		o.MaxOpenFiles = defaultMaxOpenFiles()
	}
	if o.ManifestCheckpointEntries <= 0 {
		o.ManifestCheckpointEntries = defaultManifestCheckpointEntries
	}
	if o.IdleMergeAfter == 0 {
		o.IdleMergeAfter = defaultIdleMergeAfter
	}
	if o.QuietAfter == 0 {
		o.QuietAfter = defaultQuietAfter
	}
	return o
}
