package pipeline

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/cpuslot"
	"github.com/sluice-log/sluice/internal/promreg"
)

// Metrics are the pipeline's Prometheus metrics, including gauges read from
// the WAL and the store at scrape time.
type Metrics struct {
	reg           prometheus.Registerer
	recordsStored prometheus.Counter
	backpressure  prometheus.Counter
	flushErrors   prometheus.Counter
	flushDuration prometheus.Histogram

	walWriteErrors prometheus.Counter

	headWaits       prometheus.Counter
	headWaitSeconds prometheus.Counter
}

// NewMetrics registers the pipeline's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		reg: reg,
		recordsStored: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sluice_pipeline_records_total", Help: "Records made durable in the WAL and handed to the store."}),
		backpressure: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sluice_backpressure_total", Help: "Ingest requests refused with backpressure: the WAL was at its bound, or the in-memory head stayed at its bound for longer than the wait."}),
		flushErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sluice_store_flush_errors_total", Help: "Failed flushes of the store's in-memory head."}),
		flushDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "sluice_store_flush_duration_seconds", Help: "Time to seal the in-memory head into parts.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10)}),
		walWriteErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sluice_wal_write_errors_total", Help: "Ingest requests answered 503 because the WAL write or fsync failed (a full disk); nothing of them was stored."}),
		headWaits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sluice_store_head_waits_total", Help: "Ingest requests that waited for a flush because the in-memory head was at its bound."}),
		headWaitSeconds: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sluice_store_head_wait_seconds_total", Help: "Time ingest requests spent waiting for room in the in-memory head."}),
	}
	reg.MustRegister(m.recordsStored, m.backpressure, m.flushErrors, m.flushDuration, m.walWriteErrors, m.headWaits, m.headWaitSeconds)
	return m
}

// watch registers gauges that read the pipeline's WAL and store on scrape.
func (m *Metrics) watch(p *Pipeline) {
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	counter := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f)
	}
	// The process's CPU slots (one pool per process, so registered once
	// whatever the number of pipelines).
	promreg.Register(m.reg, cpuslot.NewCollector(cpuslot.Shared()))
	m.reg.MustRegister(
		gauge("sluice_wal_bytes", "Bytes of WAL segments on disk.", func() float64 { return float64(p.wal.Size()) }),
		gauge("sluice_wal_segments", "WAL segment files on disk.", func() float64 { return float64(p.wal.Stats().Segments) }),
		gauge("sluice_data_removed", "1 once the WAL or the store found its files removed from under the server (an rm -rf of data_dir): ingest is refused with 503 and /readyz is not ready until a restart; else 0.", func() float64 {
			if p.removed.Load() != nil {
				return 1
			}
			return 0
		}),
		gauge("sluice_wal_last_seq", "Sequence number of the newest WAL record.", func() float64 { return float64(p.wal.LastSeq()) }),
		counter("sluice_wal_fsyncs_total", "fsync calls of the WAL (group commits).", func() float64 { return float64(p.wal.Stats().Fsyncs) }),
		counter("sluice_wal_fsync_seconds_total", "Time spent in WAL fsyncs.", func() float64 { return p.wal.Stats().FsyncSeconds }),
		counter("sluice_wal_written_bytes_total", "Bytes written to the WAL.", func() float64 { return float64(p.wal.Stats().BytesWritten) }),
		gauge("sluice_store_durable_seq", "WAL sequence number up to which the store's parts hold every record.", func() float64 { return float64(p.store.DurableSeq()) }),
		gauge("sluice_store_head_bytes", "Bytes of records in memory, not yet sealed into parts.", func() float64 { return float64(p.store.HeadBytes()) }),
		gauge("sluice_store_parts", "Immutable parts in the store.", func() float64 { return float64(p.store.Stats().Parts) }),
		gauge("sluice_store_partitions", "Daily partitions in the store.", func() float64 { return float64(p.store.Stats().Partitions) }),
		gauge("sluice_store_disk_bytes", "Bytes of parts on disk.", func() float64 { return float64(p.store.Stats().DiskBytes) }),
		gauge("sluice_store_records", "Records in the store's parts.", func() float64 { return float64(p.store.Stats().Records) }),
		gauge("sluice_store_quarantined_parts", "Parts live in the manifest but not served because their files failed a check (see the log and store/quarantine).", func() float64 { return float64(p.store.Stats().Quarantined) }),
		gauge("sluice_memory_limit_bytes", "memory_limit as resolved at start (auto: a share of the cgroup's or host's memory), which the store's memory bounds are carved out of; 0 means none.", func() float64 { return float64(p.opts.MemoryLimit) }),
		gauge("sluice_store_head_max_bytes", "Bound on the in-memory head above which ingest waits for a flush; 0 means no bound.", func() float64 { return float64(p.opts.MaxHeadBytes) }),
		gauge("sluice_store_head_records", "Records in memory, not yet sealed into parts.", func() float64 { return float64(p.store.Stats().HeadRecords) }),
		counter("sluice_store_blocks_read_total", "Blocks decompressed by searches.", func() float64 { return float64(p.store.Stats().BlocksRead) }),
		counter("sluice_store_blocks_skipped_total", "Blocks that searches skipped by their index.", func() float64 { return float64(p.store.Stats().BlocksSkipped) }),
		counter("sluice_store_merges_total", "Merges of parts.", func() float64 { return float64(p.store.Stats().Merges) }),
		counter("sluice_store_flushed_bytes_total", "Bytes of the parts that flushes wrote.", func() float64 { return float64(p.store.Stats().FlushedBytes) }),
		counter("sluice_store_merge_assists_total", "Flushes after which the flusher ran merges itself because the background merges had fallen behind (ingest then waits for them).", func() float64 { return float64(p.store.Stats().MergeAssists) }),
		counter("sluice_store_merged_bytes_total", "Bytes of the parts that merges wrote; (flushed + merged) / flushed is the write amplification of merging.", func() float64 { return float64(p.store.Stats().MergedBytes) }),
		counter("sluice_store_merge_blocks_total", "Blocks that merges wrote.", func() float64 { return float64(p.store.Stats().MergeBlocks) }),
		counter("sluice_store_merge_blocks_copied_total", "Blocks that merges wrote as they read them, compressing their columns again without decoding their records, since no other part's records of their stream had to join them.", func() float64 { return float64(p.store.Stats().MergeBlocksCopied) }),
		counter("sluice_store_merge_blocks_kept_total", "Of the blocks merges copied, those written with their stored bytes as they were, without decompressing them: their part was written by this process at the merge's zstd level.", func() float64 { return float64(p.store.Stats().MergeBlocksKept) }),
		gauge("sluice_store_merge_buffer_bytes", "Memory the running merges hold in the blocks they read, the buffers they read and decompress into and their output block's copied values: at most one block per input part, two buffers and one output block per merge, whatever the parts' sizes.", func() float64 { return float64(p.store.Stats().MergeBufferBytes) }),
		gauge("sluice_store_index_bytes", "Memory the parts' indexes take: the index cache (block metadata, bloom filters, numeric ranges, block headers kept by searches, meta-indexes), bounded by store.index_cache_bytes, and a small summary per part.", func() float64 { return float64(p.store.Stats().IndexBytes) }),
		gauge("sluice_store_index_cache_bytes", "Bytes the index cache holds.", func() float64 { return float64(p.store.Stats().IndexCache.Bytes) }),
		gauge("sluice_store_index_cache_max_bytes", "The index cache's bound (store.index_cache_bytes).", func() float64 { return float64(p.store.Stats().IndexCache.MaxBytes) }),
		gauge("sluice_store_index_cache_entries", "Meta-indexes and index chunks the index cache holds.", func() float64 { return float64(p.store.Stats().IndexCache.Entries) }),
		counter("sluice_store_index_cache_hits_total", "Index cache lookups that found their entry.", func() float64 { return float64(p.store.Stats().IndexCache.Hits) }),
		counter("sluice_store_index_cache_misses_total", "Index cache lookups that read their entry from the part file.", func() float64 { return float64(p.store.Stats().IndexCache.Misses) }),
		counter("sluice_store_index_cache_evictions_total", "Index cache entries evicted to stay within the bound.", func() float64 { return float64(p.store.Stats().IndexCache.Evictions) }),
		gauge("sluice_store_open_files", "Part files open for reading.", func() float64 { return float64(p.store.Stats().Files.Open) }),
		gauge("sluice_store_max_open_files", "Bound on the part files open for reading (store.max_open_files).", func() float64 { return float64(p.store.Stats().Files.Max) }),
		counter("sluice_store_file_opens_total", "Part files opened for reading.", func() float64 { return float64(p.store.Stats().Files.Opens) }),
		gauge("sluice_store_parts_unverified", "Served parts whose sha256 has not been checked since the start (the scrubber's backlog).", func() float64 { return float64(p.store.Stats().PartsUnverified) }),
		counter("sluice_store_parts_scrubbed_total", "Parts whose whole sha256 was checked since the start (by the scrubber, or before a merge).", func() float64 { return float64(p.store.Stats().PartsScrubbed) }),
		counter("sluice_store_scrub_failures_total", "Parts whose sha256 did not match the manifest's (quarantined).", func() float64 { return float64(p.store.Stats().ScrubFailures) }),
		counter("sluice_store_scrub_bytes_total", "Bytes of parts hashed by the scrubber and before merges.", func() float64 { return float64(p.store.Stats().ScrubBytes) }),
		gauge("sluice_store_merges_pending", "Daily partitions with a merge running or due, now or once no part has been added to them for store.idle_merge_after.", func() float64 { return float64(p.store.Stats().MergesPending) }),
		gauge("sluice_manifest_head_seq", "Sequence number of the manifest's last entry, the chain head (also in /api/v1/status and the log).", func() float64 { return float64(p.store.Head().Seq) }),
		gauge("sluice_manifest_head_hash", "The chain head's hash as a number: its first 6 bytes (48 bits, exact in a float), to compare with the witness and sluice verify.", func() float64 { return p.Head().HashNumber() }),
		gauge("sluice_tail_subscribers", "Live-tail subscribers.", func() float64 { return float64(p.hub.n.Load()) }),
		gauge("sluice_tail_buffered_bytes", "Bytes of records waiting for live-tail clients (each bounded by query.tail_buffer_bytes).", func() float64 { return float64(p.hub.buffered.Load()) }),
		counter("sluice_tail_dropped_total", "Live-tail clients dropped because they fell more than query.tail_buffer_bytes behind.", func() float64 { return float64(p.hub.dropped.Load()) }),
	)
}
