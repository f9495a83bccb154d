package pipeline

import (
	"time"

	"github.com/sluice-log/sluice/internal/trust"
)

// Status is a snapshot of the pipeline for operators: how full the buffer
// is, whether ingest is pushing back, and what the store holds.
type Status struct {
	Ready             bool          `json:"ready"`
	WALBytes          int64         `json:"wal_bytes"`
	WALMaxBytes       int64         `json:"wal_max_bytes"`
	WALLastSeq        uint64        `json:"wal_last_seq"`
	DurableSeq        uint64        `json:"durable_seq"`
	BackpressureTotal int64         `json:"backpressure_total"`
	MemoryLimit       int64         `json:"memory_limit_bytes"`
	HeadBytes         int64         `json:"head_bytes"`
	HeadMaxBytes      int64         `json:"head_max_bytes"`
	HeadRecords       int64         `json:"head_records"`
	Parts             int           `json:"parts"`
	QuarantinedParts  int           `json:"quarantined_parts"`
	MergesPending     int           `json:"merges_pending"`
	MergeBufferBytes  int64         `json:"merge_buffer_bytes"`
	IndexBytes        int64         `json:"index_bytes"`
	IndexCacheMax     int64         `json:"index_cache_max_bytes"`
	IndexCacheHits    int64         `json:"index_cache_hits"`
	IndexCacheMisses  int64         `json:"index_cache_misses"`
	OpenFiles         int           `json:"open_files"`
	MaxOpenFiles      int           `json:"max_open_files"`
	PartsUnverified   int           `json:"parts_unverified"`
	PartsScrubbed     int64         `json:"parts_scrubbed"`
	ScrubFailures     int64         `json:"scrub_failures"`
	Partitions        int           `json:"partitions"`
	DiskBytes         int64         `json:"disk_bytes"`
	Records           int64         `json:"records"`
	ManifestReplayed  int           `json:"manifest_entries_replayed"`
	RecordsIngested   int64         `json:"records_ingested"`
	Retention         time.Duration `json:"retention_ns"`
	// Live tail: clients now, bytes waiting for them, clients dropped for
	// falling behind.
	TailSubscribers   int         `json:"tail_subscribers"`
	TailBufferedBytes int64       `json:"tail_buffered_bytes"`
	TailDropped       int64       `json:"tail_dropped_total"`
	Trust             TrustStatus `json:"trust"`
}

// TrustStatus is the chain head a node publishes (docs/storage.md, Threat
// model): the manifest's last entry and the last WAL seq fsynced, whether
// they are signed, and how pushing them to the witness goes.
type TrustStatus struct {
	Signed       bool                   `json:"signed"`
	ManifestSeq  uint64                 `json:"manifest_head_seq"`
	ManifestHash string                 `json:"manifest_head_hash"`
	WALSeq       uint64                 `json:"wal_written_seq"`
	Witness      *trust.PublisherStatus `json:"witness,omitempty"`
}

// Status returns the pipeline's current state.
func (p *Pipeline) Status() Status {
	st := p.store.Stats()
	return Status{
		Ready:             p.Ready(),
		WALBytes:          p.wal.Size(),
		WALMaxBytes:       p.opts.WALMaxBytes,
		WALLastSeq:        p.wal.LastSeq(),
		DurableSeq:        p.store.DurableSeq(),
		BackpressureTotal: p.backpressureTotal.Load(),
		MemoryLimit:       p.opts.MemoryLimit,
		HeadBytes:         p.store.HeadBytes(),
		HeadMaxBytes:      p.opts.MaxHeadBytes,
		HeadRecords:       st.HeadRecords,
		Parts:             st.Parts,
		QuarantinedParts:  st.Quarantined,
		MergesPending:     st.MergesPending,
		IndexBytes:        st.IndexBytes,
		MergeBufferBytes:  st.MergeBufferBytes,
		IndexCacheMax:     st.IndexCache.MaxBytes,
		IndexCacheHits:    st.IndexCache.Hits,
		IndexCacheMisses:  st.IndexCache.Misses,
		OpenFiles:         st.Files.Open,
		MaxOpenFiles:      st.Files.Max,
		PartsUnverified:   st.PartsUnverified,
		PartsScrubbed:     st.PartsScrubbed,
		ScrubFailures:     st.ScrubFailures,
		Partitions:        st.Partitions,
		DiskBytes:         st.DiskBytes,
		Records:           st.Records,
		ManifestReplayed:  st.ManifestReplayed,
		RecordsIngested:   p.ingested.Load(),
		Retention:         p.opts.Retention,
		TailSubscribers:   int(p.hub.n.Load()),
		TailBufferedBytes: p.hub.buffered.Load(),
		TailDropped:       p.hub.dropped.Load(),
		Trust:             p.trustStatus(),
	}
}

// Head is the chain head to publish: the manifest's last entry and the
// last WAL seq fsynced.
func (p *Pipeline) Head() trust.Head {
	h := p.store.Head()
	return trust.Head{Seq: h.Seq, Hash: h.Hash, WALSeq: p.wal.WrittenSeq()}
}

func (p *Pipeline) trustStatus() TrustStatus {
	h := p.Head()
	ts := TrustStatus{Signed: p.store.Signing(), ManifestSeq: h.Seq, ManifestHash: h.Hash, WALSeq: h.WALSeq}
	if p.opts.Witness != nil {
		ws := p.opts.Witness()
		ts.Witness = &ws
	}
	return ts
}
