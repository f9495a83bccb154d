package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the whole configuration of `sluice serve`.
type Config struct {
	DataDir     string       `yaml:"data_dir" doc:"Directory for the write-ahead log and the store. Created if missing."`
	MemoryLimit MemoryLimit  `yaml:"memory_limit" doc:"Soft bound on the process's memory, which the store's memory is carved out of. auto takes 70% of the memory the process may use: its cgroup's limit (cgroup v2 or v1), else the host's memory, or GOMEMLIMIT when that is set; a size sets it explicitly. It is the most the Go garbage collector's soft limit (runtime/debug.SetMemoryLimit) is set to; below it, the soft limit follows the live heap: while the live heap is at most twice store.flush_bytes (the head's bound) the collector's own goal (as much again as the live heap) stands; above, after every collection the soft limit is set to the live heap plus a headroom of the head's bound or the heap's scannable bytes (objects holding pointers, which a collection traces), whichever is larger, so that the collector's headroom does not double the pointer-free buffers (the head's records, blocks, bloom filters) a live heap above the head's bound holds (the GOMEMLIMIT environment variable, if set, wins for the collector and turns this off). It also caps the store's in-memory records: they are sealed into parts once they take store.flush_bytes or an eighth of memory_limit, whichever is smaller, and ingest waits for a flush while they take twice that. 0 means no soft limit (the records in memory are still bounded by store.flush_bytes)."`
	HTTP        HTTPConfig   `yaml:"http" doc:"The HTTP listener: ingest, query API, metrics and health."`
	WAL         WALConfig    `yaml:"wal" doc:"The write-ahead log that makes every acknowledged record durable."`
	Store       StoreConfig  `yaml:"store" doc:"The embedded, compressed and indexed log store."`
	Ingest      IngestConfig `yaml:"ingest" doc:"Limits of every receiver (the accepted span of record times) and the HTTP receivers' limits and field mapping."`
	Query       QueryConfig  `yaml:"query" doc:"Limits of the query engine, so that queries never starve ingest."`
	Log         LogConfig    `yaml:"log" doc:"Sluice's own logs (written to stderr)."`

	Forward ForwardConfig `yaml:"forward" doc:"The Fluentd forward protocol receiver."`
	Syslog  SyslogConfig  `yaml:"syslog" doc:"The syslog receiver."`
	OTLP    OTLPConfig    `yaml:"otlp" doc:"The OpenTelemetry (OTLP) logs receiver."`
	Loki    LokiConfig    `yaml:"loki" doc:"The Loki push API receiver."`

	Role  string      `yaml:"role" doc:"What this process does: all (receivers, WAL, store and queries in one process), gateway (receivers writing to Kafka) indexer (Kafka consumer writing to the sink) or querier (one query fanned out over the store indexers, their answers merged). Roles all, querier and indexer with sink store serve the query API; a gateway, and an indexer writing to Elasticsearch/OpenSearch, have nothing to query and serve only ingest (gateway), /healthz, /readyz and /metrics."`
	Kafka KafkaConfig `yaml:"kafka" doc:"Kafka, the buffer between gateways and indexers (roles gateway and indexer)."`
	Sink  SinkConfig  `yaml:"sink" doc:"Where the indexer role writes."`

	Querier QuerierConfig `yaml:"querier" doc:"The querier role: one query over every store indexer."`

	Autoscale AutoscaleConfig `yaml:"autoscale" doc:"sluice autoscale, the controller that sets the indexers' replica count from the consumer group's lag, the ingest rate and its trend, and the indexers' measured throughput (docs/scaling.md). It reads the group from the kafka section. Every key is also a flag of the command, with dashes for underscores (--drain-target), which overrides it."`

	Pipeline PipelineConfig `yaml:"pipeline" doc:"The processing pipeline that roles all and gateway apply to records on ingest, before the write-ahead log."`

	Trust TrustConfig `yaml:"trust" doc:"Signatures and a witness, so that someone able to write the data directory cannot rewrite, cut or roll back what it holds unseen (docs/storage.md, Threat model)."`

	Auth   AuthConfig   `yaml:"auth" doc:"API keys, roles and tenants (docs/security.md)."`
	Quotas QuotasConfig `yaml:"quotas" doc:"What each tenant may take of ingest and queries, so that no tenant's flood starves the others. Per tenant in /metrics (sluice_tenant_*) and in /api/v1/status."`

	Alerts   AlertsConfig   `yaml:"alerts" doc:"Alert rules, flow checks and notifiers (docs/alerts.md). Their state (alerts, silences, notifier failures) is kept in data_dir/alerts."`
	Metrics  []MetricConfig `yaml:"metrics" doc:"Metrics from logs: counters evaluated on each record as it is ingested (roles all and gateway), exported on /metrics as sluice_log_<name> with the query's by fields as labels (docs/alerts.md)."`
	Graphite GraphiteConfig `yaml:"graphite" doc:"Pushing Sluice's metrics, those of metrics included, to Graphite (plaintext protocol) or InfluxDB (line protocol)."`

	// secretsRead: ReadSecretFiles set the options from their files.
	secretsRead bool
}

// HTTPConfig configures the HTTP listener.
type HTTPConfig struct {
	Addr              string   `yaml:"addr" doc:"Listen address (host:port). The default listens on loopback only; use :9280 to listen on every interface."`
	TLSCertFile       string   `yaml:"tls_cert_file" doc:"PEM certificate; with tls_key_file, the listener speaks HTTPS only."`
	TLSKeyFile        string   `yaml:"tls_key_file" doc:"PEM private key for tls_cert_file."`
	TLSClientCAFile   string   `yaml:"tls_client_ca_file" doc:"PEM CA bundle; when set (with tls_cert_file), every request but GET /healthz and /readyz must come with a client certificate signed by it, or is answered 403 (a certificate that does not verify fails the TLS handshake). The probes stay open because the kubelet's cannot present one."`
	ReadTimeout       Duration `yaml:"read_timeout" doc:"Longest time to read one request, body included."`
	ReadHeaderTimeout Duration `yaml:"read_header_timeout" doc:"Longest time to read a request's headers, from the connection's first byte or the end of its previous request; a client that trickles them (slowloris) is cut off."`
	IdleTimeout       Duration `yaml:"idle_timeout" doc:"Close a keep-alive connection idle between requests for this long."`
	MaxConnections    int      `yaml:"max_connections" doc:"Most open connections on this listener. At the bound a new connection displaces the one idle the longest (waiting for its request's headers or body, or between requests), and is refused only when every other one is serving a request. 0 gives this listener its share of the file descriptors (see docs/security.md), -1 means no bound."`
	ShutdownTimeout   Duration `yaml:"shutdown_timeout" doc:"On SIGTERM, how long in-flight requests may take to finish before the final flush."`
	MetricsAddr       string   `yaml:"metrics_addr" doc:"A second listen address serving only /metrics, /healthz and /readyz, without a key even when auth is on (for Prometheus and Kubernetes probes); empty serves them on addr alone, where /metrics then needs an admin key. Metrics carry counts per tenant, never records."`
	AllowedHosts      []string `yaml:"allowed_hosts" doc:"Host header values (names, without the port) the HTTP listener answers, against DNS rebinding; empty allows localhost, 127.0.0.1 and ::1 when addr is on loopback, and any host otherwise."`
	Pprof             bool     `yaml:"pprof" doc:"Serve Go's profiler under /debug/pprof/ on this listener, for diagnosing CPU and memory use. Off by default: profiles reveal internals and cost CPU while taken."`
}

// WALConfig configures the write-ahead log.
type WALConfig struct {
	SegmentSize ByteSize `yaml:"segment_size" doc:"Size at which a WAL segment file is closed and a new one started."`
	MaxSize     ByteSize `yaml:"max_size" doc:"Bound on the WAL's bytes on disk. When it is reached, ingest answers 429 with Retry-After until the store has caught up."`
	Sync        string   `yaml:"sync" doc:"When to fsync: 'batch' fsyncs as soon as possible, sharing one fsync among concurrent requests; a duration such as '10ms' waits that long to gather more requests into each fsync. Either way a request is answered only after its records were fsynced."`
}

// StoreConfig configures the embedded store.
type StoreConfig struct {
	FlushInterval             Duration         `yaml:"flush_interval" doc:"How often records in memory (already durable in the WAL and searchable) are sealed into compressed parts; a node that has received nothing for this long counts its partitions idle (store.idle_merge_after)."`
	FlushBytes                ByteSize         `yaml:"flush_bytes" doc:"Seal records in memory into a part early once they take this much memory. While a flush runs, new records wait once twice this much is in memory, so this (with memory_limit) bounds the memory ingest takes."`
	MergeInterval             Duration         `yaml:"merge_interval" doc:"How often each of the two merge lanes (merges reading less than 128 MiB, and larger ones) looks for merges due; both also look after every flush."`
	MergeFanIn                int              `yaml:"merge_fan_in" doc:"Parts of one size tier that a merge combines: a daily partition's parts fall into tiers by size (below 1 MiB, then each tier merge_fan_in times the one below), and a tier holding this many parts is merged into one part of a higher tier. So each byte is rewritten about log_merge_fan_in(partition size / 1 MiB) times, and a partition under continuous ingest holds at most merge_fan_in-1 parts per tier. Higher: fewer rewrites, more parts for searches to visit, and more memory per merge: a merge holds at most one block per input (up to 4 MiB of raw values each; sluice_store_merge_buffer_bytes), 16 inputs at most."`
	IdleMergeAfter            Duration         `yaml:"idle_merge_after" doc:"Once no flush has added a part to a daily partition for this long (yesterday's partition, a quiet tenant's; a merge's part counts as added when its newest input was), or once the whole node has received no record for store.flush_interval and flushed every one (the end of a backfill or a burst), merge its parts further: all into one when the parts besides the largest hold at least as many bytes as it (but without the largest, when it is 128 MiB or more, if they hold more, though less than twice as much), else its small parts together, so that each such merge at least doubles the largest part it rewrites. Fewer parts mean fewer blocks per search. 0 turns it off."`
	ManifestCheckpointEntries int              `yaml:"manifest_checkpoint_entries" doc:"Entries the manifest (one per flush, merge or retention drop) may hold before it is checkpointed: a checkpoint entry carrying the live parts starts a new manifest.log, and the history before it moves to store/manifest.archive/, where sluice verify still checks it. A start replays only manifest.log, so this bounds the start's work however long the history."`
	IndexCacheBytes           ByteSize         `yaml:"index_cache_bytes" doc:"Memory for the parts' index (block metadata, bloom filters, numeric ranges, the block headers searches keep): it lives on disk and is read on demand into a cache of this many bytes, least recently used first out, so memory does not grow with the data stored. 0 means an eighth of memory_limit (64MiB when memory_limit is 0)."`
	MaxOpenFiles              int              `yaml:"max_open_files" doc:"Part files open for reading at once: a part's file is opened when a search first reads it and closed, least recently used first, above this bound, so open files do not grow with the days stored. 0 means the share of the process's open-file limit (RLIMIT_NOFILE, raised to its hard limit at start) that the connection budget reserves for the store: a quarter of it less 512, at least 64."`
	ScrubBytesPerSecond       ByteSize         `yaml:"scrub_bytes_per_second" doc:"A start hashes no part; each part's sha256 is checked before the first read of it (the first query over it waits for the hash), and a background scrubber checks the sha256 of the other parts opened from disk at this rate, quarantining a part that does not match, as a failed read does. Parts written since the start were hashed as they were written; sluice verify checks everything on demand. 0 turns the scrubber off (the check before a first read stays)."`
	BlockRecords              int              `yaml:"block_records" doc:"Most records per compressed block; smaller blocks skip more precisely, larger ones compress better."`
	Retention                 Duration         `yaml:"retention" doc:"Delete daily partitions older than this; 0 keeps everything. Applies to every tenant without a retention of its own under tenants."`
	MaxDiskBytes              ByteSize         `yaml:"max_disk_bytes" doc:"Delete the oldest daily partitions, across tenants, while the store's parts take more than this (each tenant's newest partition is always kept); 0 means no bound."`
	Tenants                   TenantRetentions `yaml:"tenants" doc:"Retention per tenant (the tenant of ingest and queries: the key's, or the X-Scope-OrgID header with auth off; \"\" is the default tenant), e.g. {acme: {retention: 7d, max_disk_bytes: 10GiB}}. Each tenant's records live in partitions of their own, so its limits drop only its partitions. retention: delete the tenant's daily partitions older than this (0 or unset: store.retention). max_disk_bytes: delete the tenant's oldest daily partitions while its parts take more than this (its newest partition is always kept; 0 or unset: no bound of its own; store.max_disk_bytes still bounds the whole store)."`
}

// TenantRetentions maps a tenant to its retention overrides.
type TenantRetentions map[string]TenantRetention

// String renders the overrides for the generated documentation.
func (t TenantRetentions) String() string {
	if len(t) == 0 {
		return "{}"
	}
	b, err := yaml.Marshal(map[string]TenantRetention(t))
	if err != nil {
		return fmt.Sprint(map[string]TenantRetention(t))
	}
	return strings.TrimSpace(string(b))
}

// TenantRetention is one tenant's entry under store.tenants (documented
// there: the docs generator does not descend into maps).
type TenantRetention struct {
	Retention    Duration `yaml:"retention"`
	MaxDiskBytes ByteSize `yaml:"max_disk_bytes"`
}

// IngestConfig configures the HTTP receivers.
type IngestConfig struct {
	MaxRequestBytes        ByteSize     `yaml:"max_request_bytes" doc:"Largest request body after decompression; larger requests get 413."`
	MaxInFlightBytes       ByteSize     `yaml:"max_in_flight_bytes" doc:"Bound on the bytes that every receiver's requests in flight hold at once: HTTP request bodies after decompression (reserved from Content-Length before the body is read, and as it decompresses otherwise), forward messages, syslog TCP/TLS batches and OTLP gRPC requests. Above it, HTTP requests get 429 with Retry-After (in their protocol's error shape), OTLP gRPC gets Unavailable, and forward and syslog TCP stop reading their sockets until bytes are freed; each refusal counts in sluice_ingest_in_flight_rejected_total. The oldest HTTP request in flight is never refused (nor a batch that holds everything in flight), so one as large as max_request_bytes always gets through and concurrent requests cannot all refuse each other: the bytes in flight stay within this plus one request. 0 derives it: an eighth of memory_limit (a JSON-lines request was measured to raise the peak RSS by about 3 times its body: its records, its WAL batch and its copy in the head), or four times max_request_bytes when memory_limit is 0."`
	MaxLineBytes           ByteSize     `yaml:"max_line_bytes" doc:"Largest JSON line or _bulk document; a longer one is rejected on its own."`
	MaxFieldsPerRecord     int          `yaml:"max_fields_per_record" doc:"Most fields in one record; a record with more is rejected on its own."`
	MaxStreamsPerTenant    int          `yaml:"max_streams_per_tenant" doc:"Most streams one tenant may use within cardinality_window. Every stream costs the store index memory (a block per stream and daily partition): a record of a new stream past the bound is rejected on its own (reason too_many_streams in the per-record errors and in sluice_ingest_rejected_records_total); records of the tenant's active streams are always accepted. 0 means no bound."`
	MaxFieldNamesPerTenant int          `yaml:"max_field_names_per_tenant" doc:"Most distinct field names one tenant may use within cardinality_window (Elasticsearch's default is 1000 per index). A record that would add names past the bound is rejected on its own (reason too_many_field_names). 0 means no bound."`
	CardinalityWindow      Duration     `yaml:"cardinality_window" doc:"How long a stream or field name counts against max_streams_per_tenant and max_field_names_per_tenant after a record last used it. Each receiving process (all, gateway) keeps its own count, in two 64-bit words per active stream or name."`
	MaxFuture              Duration     `yaml:"max_future" doc:"How far ahead of its time of arrival a record's time may be. Every receiver accepts records whose time lies between the record's tenant's retention ago (store.tenants.<tenant>.retention, else store.retention; no bound when 0) and this far ahead; a record outside is rejected on its own (reason too_old or too_far_in_future in the per-record errors and in sluice_ingest_rejected_records_total), or stamped, as out_of_window says. 0 means no bound ahead."`
	OutOfWindow            string       `yaml:"out_of_window" doc:"What happens to a record whose time is outside the accepted window (see max_future): reject refuses it with its reason; stamp stores it with its time of arrival instead (counted in sluice_ingest_stamped_records_total)."`
	JSONLine               FieldMapping `yaml:"jsonline" doc:"Field mapping of POST /insert/jsonline (query parameters _time_field, _msg_field and _stream_fields override it per request)."`
	Bulk                   FieldMapping `yaml:"bulk" doc:"Field mapping of the Elasticsearch _bulk API."`
	BulkIndexField         string       `yaml:"bulk_index_field" doc:"Field that receives a _bulk document's index name (from its action line or the URL). Empty stores no index name. The name costs little when kept: the write-ahead log stores it once per request (with the tenant) and a block once (a constant column) when every document of a request has the same index, as shippers' requests do (docs/benchmarks.md). A document's own _id is stored as _id either way; an id the server makes up is only answered."`
}

// Values of ingest.out_of_window.
const (
	OutOfWindowReject = "reject"
	OutOfWindowStamp  = "stamp"
)

// FieldMapping says which JSON fields hold the time, the message and the
// stream labels.
type FieldMapping struct {
	TimeFields    []string `yaml:"time_fields" doc:"The first of these fields present is the record's time; records without one get the time of arrival."`
	MessageFields []string `yaml:"message_fields" doc:"The first of these fields present is the record's message."`
	StreamFields  []string `yaml:"stream_fields" doc:"Fields that identify the source (nested names are dotted); they become the record's stream labels."`
}

// QueryConfig configures the query engine.
type QueryConfig struct {
	DefaultLimit        int      `yaml:"default_limit" doc:"Records a search returns when the request names no limit."`
	MaxLimit            int      `yaml:"max_limit" doc:"Largest limit a request may ask for."`
	MaxGroups           int      `yaml:"max_groups" doc:"Most groups a stats query may build (and distinct keys of a flow pipe, distinct field names of a field list) before it fails with a message saying how to narrow it. A guard on cardinality; the memory an aggregation holds is bounded by max_aggregation_bytes, which usually stops it first (a group of a 32-byte key is estimated at about 240 bytes, so 10 million groups are estimated at 2.4GB; count() alone grouped by one field counts in a table of about 100–160 bytes a key)."`
	MaxAggregationBytes ByteSize `yaml:"max_aggregation_bytes" doc:"Most bytes (estimated) one query's aggregation may hold: its stats groups, count_uniq's distinct values, quantile samples. A query past it stops with 422 naming the query memory limit. 0 derives it: an eighth of memory_limit, or 256MiB when memory_limit is 0 (a top 5 of 4.9 million trace ids, which VictoriaLogs answers, is estimated at about 0.7GB)."`
	Timeout             Duration `yaml:"timeout" doc:"Deadline of one query, from the moment it gets one of max_concurrent's slots: a query past it stops (the search looks at the deadline between records and blocks, and a regular expression within long values) and answers 504, and its slot is free."`
	WriteTimeout        Duration `yaml:"write_timeout" doc:"Longest one write of an answer (a query's, a live tail's, Loki's) may wait for its client to read. The deadline moves on as the answer goes out, 64KiB at a time, so a long answer that is being read goes on however long it takes; a client that does not take in one 64KiB write within it (reads nothing, or reads slower than 64KiB per timeout) is cut off, and its query slot, the records kept for its answer and the server's graceful stop no longer wait for it. Counted in sluice_query_answers_cut_off_total. A client that pages through an answer (sluice query … | less) must read on within it."`
	MaxConcurrent       int      `yaml:"max_concurrent" doc:"Queries that may run at once; more wait for a slot in the order they came, and give up with 429 after 'timeout'. A live tail holds a slot for as long as it runs; live tails may hold at most half of the slots (at least one), so that queries always have the rest, and a tail that finds none free gets 429 at once. 0 means twice the number of CPUs."`
	MaxResultBytes      ByteSize `yaml:"max_result_bytes" doc:"Most bytes of records one query keeps in memory for its answer: the newest 'limit' records of a search (before the pipes after it: sort, limit, fields), and each side of the records around a hit (context). A query past it stops with 422 naming this limit, as Elasticsearch refuses a search over its result window or its request circuit breaker, rather than answering fewer records than asked without saying so; ask for fewer records, keep fewer fields, or narrow the query. Aggregations are bounded by max_groups and max_aggregation_bytes instead. 0 derives it: a sixteenth of memory_limit, or 256MiB when memory_limit is 0."`
	TailBufferBytes     ByteSize `yaml:"tail_buffer_bytes" doc:"How far one live-tail client may fall behind, in bytes of records stored but not yet sent to it (a batch arriving while it has taken everything before is always queued, whatever its size). Ingest never waits for a tail client: one that falls further behind is dropped, its slot freed at once, and its stream ends with a line {\"_dropped\":true,\"_msg\":\"…\"} saying why. Counted in sluice_tail_dropped_total; the bytes waiting are sluice_tail_buffered_bytes. 0 derives it: a 128th of memory_limit (8MiB at 1GiB), or 8MiB when memory_limit is 0; live tails hold at most half of max_concurrent's slots."`
	MaxScannedRecords   int64    `yaml:"max_scanned_records" doc:"Most records one query may decode (the rows of every block it reads and the in-memory records it visits; blocks counted from the index alone cost none); a query past it stops with 422 naming this limit. 0 means no bound."`
	MaxScannedBytes     ByteSize `yaml:"max_scanned_bytes" doc:"Most bytes one query may read from the store's parts (compressed, as on disk); a query past it stops with 422 naming this limit. 0 means no bound."`
	MaxRegexSize        int      `yaml:"max_regex_size" doc:"Most instructions a regular expression of a query (field:/re/, {label=~\"re\"}) may compile to; a larger one is refused with 400. A program's size sets its cost per byte searched: .{0,1000}b.{0,1000}z takes 4004, about 120 µs per byte of every value it searches."`
	CPUPriority         bool     `yaml:"cpu_priority" doc:"Searches go before ingest and background work for the CPU: the process's CPU-heavy work (queries from the store's search through their answer, the parsing of JSON lines and _bulk requests, every batch's WAL encoding, a flush's part writers, merges) runs on as many CPU slots as GOMAXPROCS, a free slot goes to a waiting search first, then to waiting ingest before background work (which still gets a 10 ms turn in every 50 ms while ingest keeps the slots busy, and holds at most all slots but one, so that a request arriving while ingest pauses finds a CPU), and ingest and background work hand theirs over at the end of each unit of work (about a millisecond), so a search under ingest waits about that long for a CPU instead of the scheduler's 10 ms slices behind every runnable goroutine; while ingest or background work waits, searches hold at most all slots but one, so queries never starve ingest (docs/architecture.md#cpu-searches-first). The waits are in sluice_cpu_slot_*. false lets the Go scheduler alone share the CPUs."`
	MaxDashboards       int      `yaml:"max_dashboards" doc:"Most dashboards of the web UI one tenant may keep (kept in data_dir/dashboards, docs/api.md#dashboards); creating one more answers 409. Their size is bounded too: 50 panels and 256KiB each."`
}

// LogConfig configures Sluice's own logs.
type LogConfig struct {
	Level  string `yaml:"level" doc:"debug, info, warn or error."`
	Format string `yaml:"format" doc:"text or json."`
}

// dashboardLimit is query.max_dashboards' default (dashboard.DefaultLimit,
// which config must not import).
const dashboardLimit = 500

// Default returns the configuration used when no file is given.
func Default() Config {
	c := Config{
		DataDir:     "./sluice-data",
		MemoryLimit: AutoMemoryLimit,
		HTTP: HTTPConfig{
			Addr:              DefaultHTTPAddr,
			ReadTimeout:       Duration(5 * time.Minute),
			ReadHeaderTimeout: Duration(10 * time.Second),
			IdleTimeout:       Duration(2 * time.Minute),
			ShutdownTimeout:   Duration(30 * time.Second),
			AllowedHosts:      []string{},
		},
		WAL: WALConfig{
			SegmentSize: 64 << 20,
			MaxSize:     1 << 30,
			Sync:        "batch",
		},
		Store: StoreConfig{
			FlushInterval:             Duration(5 * time.Second),
			FlushBytes:                32 << 20,
			MergeInterval:             Duration(10 * time.Second),
			MergeFanIn:                8,
			IdleMergeAfter:            Duration(30 * time.Second),
			ManifestCheckpointEntries: 1000,
			ScrubBytesPerSecond:       32 << 20,
			BlockRecords:              8192,
		},
		Ingest: IngestConfig{
			MaxRequestBytes:    64 << 20,
			MaxLineBytes:       256 << 10,
			MaxFieldsPerRecord: 1000,

			MaxStreamsPerTenant:    100000,
			MaxFieldNamesPerTenant: 10000,
			CardinalityWindow:      Duration(24 * time.Hour),
			MaxFuture:              Duration(48 * time.Hour),
			OutOfWindow:            OutOfWindowReject,
			BulkIndexField:         "_index",
			JSONLine: FieldMapping{
				TimeFields:    []string{"_time", "@timestamp", "timestamp", "time", "ts"},
				MessageFields: []string{"_msg", "message", "msg", "log"},
				StreamFields:  []string{"service", "host", "container"},
			},
			Bulk: FieldMapping{
				TimeFields:    []string{"@timestamp", "_time", "timestamp"},
				MessageFields: []string{"message", "_msg", "msg", "log"},
				StreamFields:  []string{"host.name", "service.name", "container.name", "kubernetes.pod.name"},
			},
		},
		Query: QueryConfig{
			DefaultLimit:    1000,
			MaxLimit:        100000,
			MaxGroups:       10000000,
			Timeout:         Duration(60 * time.Second),
			WriteTimeout:    Duration(30 * time.Second),
			MaxRegexSize:    5000,
			TailBufferBytes: 0,
			MaxDashboards:   dashboardLimit,
			CPUPriority:     true,
		},
		Log: LogConfig{Level: "info", Format: "text"},
	}
	defaultReceivers(&c)
	defaultScaleOut(&c)
	defaultQuerier(&c)
	defaultAutoscale(&c)
	defaultTrust(&c)
	defaultAuth(&c)
	defaultPipeline(&c)
	defaultAlerts(&c)
	return c
}

// DefaultHTTPAddr is where `sluice serve` listens and where the CLI looks for
// a server unless told otherwise.
const DefaultHTTPAddr = "127.0.0.1:9280"

// Load reads a YAML file over the defaults. Unknown keys are errors, so that
// a typo does not silently leave an option at its default.
func Load(path string) (Config, error) {
	cfg, err := Read(path)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// Read reads a YAML file over the defaults without validating the result,
// for a caller that overrides options (command-line flags such as --role)
// before it calls Validate: a check that depends on the role must see the
// role in force.
func Read(path string) (Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return Config{}, fmt.Errorf("open config: %w", err)
	}
	defer f.Close()
	return decode(f)
}

// Parse reads YAML over the defaults and validates the result.
func Parse(r io.Reader) (Config, error) {
	cfg, err := decode(r)
	if err != nil {
		return Config{}, err
	}
	return cfg, cfg.Validate()
}

func decode(r io.Reader) (Config, error) {
	cfg := Default()
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, err
	}
	return cfg, nil
}

// Validate reports every invalid option at once.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.DataDir == "" {
		bad("data_dir must not be empty")
	}
	if c.HTTP.Addr == "" {
		bad("http.addr must not be empty")
	}
	if (c.HTTP.TLSCertFile == "") != (c.HTTP.TLSKeyFile == "") {
		bad("http.tls_cert_file and http.tls_key_file must be set together")
	}
	if c.HTTP.TLSClientCAFile != "" && c.HTTP.TLSCertFile == "" {
		bad("http.tls_client_ca_file needs http.tls_cert_file and http.tls_key_file")
	}
	if c.HTTP.ReadTimeout <= 0 || c.HTTP.ReadHeaderTimeout <= 0 || c.HTTP.IdleTimeout <= 0 {
		bad("http.read_timeout, http.read_header_timeout and http.idle_timeout must be positive")
	}
	for _, mc := range []struct {
		key string
		n   int
	}{{"http.max_connections", c.HTTP.MaxConnections}, {"forward.max_connections", c.Forward.MaxConnections},
		{"syslog.max_connections", c.Syslog.MaxConnections}, {"otlp.max_connections", c.OTLP.MaxConnections}} {
		if mc.n < -1 {
			bad("%s must be -1 (no bound), 0 (a share of the file descriptors) or a bound, got %d", mc.key, mc.n)
		}
	}
	if c.WAL.SegmentSize < 1<<20 {
		bad("wal.segment_size must be at least 1MiB, got %s", c.WAL.SegmentSize)
	}
	if c.WAL.MaxSize < c.WAL.SegmentSize {
		bad("wal.max_size (%s) must be at least wal.segment_size (%s)", c.WAL.MaxSize, c.WAL.SegmentSize)
	}
	if _, err := c.WAL.SyncInterval(); err != nil {
		bad("wal.sync: %v", err)
	}
	if c.MemoryLimit != 0 && c.MemoryLimit != AutoMemoryLimit && c.MemoryLimit < 64<<20 {
		bad("memory_limit must be auto, 0 (no limit) or at least 64MiB, got %s", c.MemoryLimit)
	}
	if c.Store.FlushBytes < 1<<20 {
		bad("store.flush_bytes must be at least 1MiB, got %s", c.Store.FlushBytes)
	}
	if c.Store.FlushInterval <= 0 {
		bad("store.flush_interval must be positive")
	}
	if c.Store.MergeInterval <= 0 {
		bad("store.merge_interval must be positive")
	}
	if c.Store.IdleMergeAfter < 0 {
		bad("store.idle_merge_after must not be negative")
	}
	if c.Store.MergeFanIn < 2 || c.Store.MergeFanIn > 16 {
		bad("store.merge_fan_in must be between 2 and 16 (the most parts one merge reads), got %d", c.Store.MergeFanIn)
	}
	errs = append(errs, c.validateTrust()...)
	if c.Store.IndexCacheBytes != 0 && c.Store.IndexCacheBytes < 1<<20 {
		bad("store.index_cache_bytes must be 0 (an eighth of memory_limit) or at least 1MiB, got %s", c.Store.IndexCacheBytes)
	}
	if c.MemoryLimit > 0 && c.Store.IndexCacheBytes > ByteSize(c.MemoryLimit)/2 {
		bad("store.index_cache_bytes (%s) must be at most half of memory_limit (%s)", c.Store.IndexCacheBytes, c.MemoryLimit)
	}
	if c.Store.MaxOpenFiles < 0 {
		bad("store.max_open_files must not be negative")
	}
	if c.Store.ScrubBytesPerSecond < 0 {
		bad("store.scrub_bytes_per_second must not be negative")
	}
	if c.Store.ManifestCheckpointEntries < 1 {
		bad("store.manifest_checkpoint_entries must be at least 1")
	}
	if c.Store.BlockRecords < 16 {
		bad("store.block_records must be at least 16")
	}
	if c.Store.MaxDiskBytes < 0 {
		bad("store.max_disk_bytes must not be negative")
	}
	if c.Store.Retention < 0 {
		bad("store.retention must not be negative")
	}
	for _, tenant := range slices.Sorted(maps.Keys(c.Store.Tenants)) {
		tr := c.Store.Tenants[tenant]
		switch {
		case tr.Retention < 0 || tr.MaxDiskBytes < 0:
			bad("store.tenants[%q]: retention and max_disk_bytes must not be negative", tenant)
		case tr.Retention == 0 && tr.MaxDiskBytes == 0:
			bad("store.tenants[%q]: set retention or max_disk_bytes (or remove the entry)", tenant)
		}
	}
	if c.Ingest.MaxLineBytes <= 0 || c.Ingest.MaxRequestBytes < c.Ingest.MaxLineBytes {
		bad("ingest.max_line_bytes must be positive and at most ingest.max_request_bytes")
	}
	if c.Ingest.MaxStreamsPerTenant < 0 || c.Ingest.MaxFieldNamesPerTenant < 0 {
		bad("ingest.max_streams_per_tenant and ingest.max_field_names_per_tenant must not be negative")
	}
	if c.Ingest.CardinalityWindow <= 0 {
		bad("ingest.cardinality_window must be positive")
	}
	if c.Ingest.MaxFieldsPerRecord <= 0 {
		bad("ingest.max_fields_per_record must be positive")
	}
	if c.Ingest.MaxFuture < 0 {
		bad("ingest.max_future must not be negative")
	}
	switch c.Ingest.OutOfWindow {
	case OutOfWindowReject, OutOfWindowStamp:
	default:
		bad("ingest.out_of_window must be %s or %s, got %q", OutOfWindowReject, OutOfWindowStamp, c.Ingest.OutOfWindow)
	}
	if c.Query.DefaultLimit <= 0 || c.Query.MaxLimit < c.Query.DefaultLimit {
		bad("query.default_limit must be positive and at most query.max_limit")
	}
	if c.Query.MaxDashboards <= 0 {
		bad("query.max_dashboards must be positive")
	}
	if c.Query.MaxGroups <= 0 {
		bad("query.max_groups must be positive")
	}
	if c.Query.Timeout <= 0 {
		bad("query.timeout must be positive")
	}
	if c.Query.WriteTimeout <= 0 {
		bad("query.write_timeout must be positive, got %s", c.Query.WriteTimeout)
	}
	if c.Query.MaxConcurrent < 0 {
		bad("query.max_concurrent must not be negative")
	}
	if c.Query.MaxScannedRecords < 0 || c.Query.MaxScannedBytes < 0 {
		bad("query.max_scanned_records and query.max_scanned_bytes must not be negative")
	}
	if c.Query.MaxRegexSize <= 0 {
		bad("query.max_regex_size must be positive")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level must be debug, info, warn or error, got %q", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		bad("log.format must be text or json, got %q", c.Log.Format)
	}
	errs = append(errs, c.validateReceivers()...)
	errs = append(errs, c.validateScaleOut()...)
	errs = append(errs, c.validateSecretFiles()...)
	errs = append(errs, c.validateQuerier()...)
	errs = append(errs, c.validateAutoscale()...)
	errs = append(errs, c.validateAuth()...)
	errs = append(errs, c.validatePipeline()...)
	errs = append(errs, c.validateAlerts()...)
	return errors.Join(errs...)
}

// MemoryLimitFraction is the share of the memory the process may use that
// memory_limit: auto takes. Servers that derive their Go memory limit from
// their container's leave it 10–40% of headroom (Prometheus' default ratio
// is 0.9, VictoriaLogs' caches take 60%); Sluice leaves 30% because its
// searches read parts through the kernel's page cache, which a cgroup
// counts against the same limit (reclaimable, but the more of it stays,
// the fewer reads go to disk), and because a soft limit is soft: memory
// still in use is not collected, so a burst can exceed it for a while.
const MemoryLimitFraction = 0.7

// fallbackMemoryLimit is memory_limit: auto when the memory the process may
// use is unknown.
const fallbackMemoryLimit = 512 << 20

// ResolveMemoryLimit replaces memory_limit: auto by MemoryLimitFraction of
// available, the bytes the process may use (0 when unknown), or by
// gomemlimit when it is positive (GOMEMLIMIT was set: the operator's bound
// wins). It is called once by the server before it sizes anything.
func (c *Config) ResolveMemoryLimit(available uint64, gomemlimit int64) {
	if c.MemoryLimit != AutoMemoryLimit {
		return
	}
	switch {
	case gomemlimit > 0:
		c.MemoryLimit = MemoryLimit(gomemlimit)
	case available > 0:
		c.MemoryLimit = MemoryLimit(max(float64(available)*MemoryLimitFraction, 64<<20))
	default:
		c.MemoryLimit = fallbackMemoryLimit
	}
}

// HeadBounds derives the store's in-memory bounds from store.flush_bytes
// and memory_limit (resolved: see ResolveMemoryLimit): flush is the head
// size at which a flush starts, max the size at which ingest waits for it.
// Max leaves room for one head being flushed while the next one fills.
func (c Config) HeadBounds() (flush, max int64) {
	flush = int64(c.Store.FlushBytes)
	if c.MemoryLimit > 0 {
		flush = min(flush, int64(c.MemoryLimit)/8)
	}
	return flush, 2 * flush
}

// InFlightBytes is ingest.max_in_flight_bytes, derived when 0 from
// memory_limit (resolved: see ResolveMemoryLimit): an eighth of it, since a
// request's body costs about 3 times its size in memory until it is
// stored (measured: one 64 MiB JSON-lines request raised the peak RSS from
// 24 to 226 MiB), so that requests in flight take under half of it; four
// times max_request_bytes without a memory limit.
func (c Config) InFlightBytes() int64 {
	return c.shareOfMemory(c.Ingest.MaxInFlightBytes, 8, 4*int64(c.Ingest.MaxRequestBytes))
}

// shareOfMemory is a bound set explicitly (set > 0), else memory_limit /
// divisor, else (no memory limit) fallback.
func (c Config) shareOfMemory(set ByteSize, divisor, fallback int64) int64 {
	switch {
	case set > 0:
		return int64(set)
	case c.MemoryLimit > 0:
		return int64(c.MemoryLimit) / divisor
	}
	return fallback
}

// ResultBytes is query.max_result_bytes, derived when 0 from memory_limit
// (resolved): a sixteenth of it, so that max_concurrent queries at their
// bound take a fraction of it; 256 MiB without a memory limit.
func (c Config) ResultBytes() int64 {
	return c.shareOfMemory(c.Query.MaxResultBytes, 16, 256<<20)
}

// AggregationBytes is query.max_aggregation_bytes, derived when 0 from
// memory_limit (resolved): an eighth of it, twice max_result_bytes'
// share, since a grouping over a high-cardinality field (trace ids over a
// few hours) needs millions of groups to be exact, and is rarely run by
// several queries at once; 256 MiB without a memory limit.
func (c Config) AggregationBytes() int64 {
	return c.shareOfMemory(c.Query.MaxAggregationBytes, 8, 256<<20)
}

// TailBytes is query.tail_buffer_bytes, derived when 0 from memory_limit
// (resolved): a 128th of it per live tail (8 MiB at 1 GiB, what it was as
// a fixed default), so that the tails (at most max_concurrent/2) take a
// share of the budget like the other caches; 8 MiB without a memory limit.
func (c Config) TailBytes() int64 {
	return c.shareOfMemory(c.Query.TailBufferBytes, 128, 8<<20)
}

// IndexCacheBytes is store.index_cache_bytes, or its default: an eighth
// of memory_limit (resolved: see ResolveMemoryLimit), 64MiB without one.
// With the head's bound (a quarter of memory_limit at most), the store's
// caches and queues take at most 3/8 of memory_limit, leaving the rest to
// queries, ingest buffers and the garbage collector's headroom.
func (c Config) IndexCacheBytes() int64 {
	return c.shareOfMemory(c.Store.IndexCacheBytes, 8, 64<<20)
}

// SyncInterval decodes wal.sync: 0 for "batch", else the gathering delay.
func (w WALConfig) SyncInterval() (time.Duration, error) {
	if w.Sync == "batch" {
		return 0, nil
	}
	d, err := ParseDuration(w.Sync)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("want 'batch' or a positive duration such as 10ms, got %q", w.Sync)
	}
	return d, nil
}

// WriteDefaults writes the default configuration as YAML with every option's
// documentation as a comment above it.
func WriteDefaults(w io.Writer) error {
	var node yaml.Node
	def := Default()
	if err := node.Encode(&def); err != nil {
		return err
	}
	annotate(&node, docsOf())
	var buf bytes.Buffer
	buf.WriteString("# Sluice configuration with every option at its default.\n# Pass it with: sluice serve --config sluice.yaml\n\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&node); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// annotate attaches docs (keyed by dotted path) to a mapping node's keys.
func annotate(n *yaml.Node, docs map[string]string) {
	var walk func(n *yaml.Node, prefix string)
	walk = func(n *yaml.Node, prefix string) {
		if n.Kind == yaml.DocumentNode {
			for _, c := range n.Content {
				walk(c, prefix)
			}
			return
		}
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i], n.Content[i+1]
			path := prefix + key.Value
			if d, ok := docs[path]; ok {
				key.HeadComment = wrap(d, 78)
			}
			if val.Kind == yaml.MappingNode {
				walk(val, path+".")
			}
			if val.Kind == yaml.SequenceNode {
				val.Style = yaml.FlowStyle
			}
		}
	}
	walk(n, "")
}

func wrap(s string, width int) string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = w
			continue
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	return strings.Join(append(lines, line), "\n")
}
