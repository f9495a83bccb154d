package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sluice-log/sluice/internal/aimd"
	"github.com/sluice-log/sluice/internal/api"
	"github.com/sluice-log/sluice/internal/auth"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/connlimit"
	"github.com/sluice-log/sluice/internal/cpuslot"
	"github.com/sluice-log/sluice/internal/dashboard"
	"github.com/sluice-log/sluice/internal/faultpoint"
	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/kafka"
	"github.com/sluice-log/sluice/internal/pipeline"
	"github.com/sluice-log/sluice/internal/sink"
	"github.com/sluice-log/sluice/internal/store"
	"github.com/sluice-log/sluice/internal/trust"
	"github.com/sluice-log/sluice/internal/ui"
	"github.com/sluice-log/sluice/internal/wal"
)

func runServe(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "serve [--config FILE] [--data-dir DIR] [--http-addr HOST:PORT] [--role all|gateway|indexer|querier] [--kafka-brokers HOST:PORT,…] [--kafka-topic NAME] [--kafka-consumer-group NAME] [--kafka-instance-id ID] [--indexers URL,…]", `
Runs the server. With the default role 'all' it is the all-in-one server:
HTTP receivers, the write-ahead log, the embedded store and the query API,
in one process with one data directory. Without --config it runs on the
defaults ('sluice config defaults' prints them); flags override the file.

Roles (docs/scale-out.md):
  all      everything in one process (the default)
  gateway  the receivers, producing every record to Kafka (--kafka-brokers)
           and acknowledging clients only after Kafka did; no data
           directory, no query API (a gateway stores nothing)
  indexer  a Kafka consumer group member writing to sink.type: the
           embedded store (then it serves the query API over what it
           indexed) or Elasticsearch/OpenSearch; no receivers. Indexers
           in different consumer groups (--kafka-consumer-group) each
           hold a full copy
  querier  the query API, the UI and live tail over every store indexer
           (--indexers): each query goes to one copy of every Kafka
           partition and the answers are merged; no data directory

Endpoints (all on --http-addr; ingest only on all and gateway, queries on
all, querier and store indexers):
  GET  /                           the web UI (Elasticsearch's info for API clients)
  POST /insert/jsonline            JSON lines, one object per line
  POST /_bulk, /{index}/_bulk      the Elasticsearch bulk API
  POST /v1/logs                    OTLP logs (protobuf or JSON)
  POST /loki/api/v1/push           the Loki push API
  POST /api/v1/query               query (NDJSON answer; explain=1 for the plan)
  GET  /api/v1/hits                hit counts per time bucket
  GET  /api/v1/field_names         fields with their top values
  POST /api/v1/context             records around a hit in its stream
  GET  /api/v1/tail                live tail (NDJSON or server-sent events)
  GET  /api/v1/status              ingest rates, buffer fill, disk
  /api/v1/alerts, flows, rules, silences, saved_searches, dashboards
                                   alerts and flow checks (docs/alerts.md;
                                   rules made at runtime: POST, DELETE
                                   /api/v1/rules), the UI's saved searches
                                   and dashboards
  GET  /ui/alerts, /ui/flows       the UI's alerts and flows pages
  GET  /metrics, /healthz, /readyz

Receivers with their own ports (defaults; loopback only until configured):
  Fluentd forward   TCP 127.0.0.1:24224 (forward.addr)
  syslog            UDP and TCP 127.0.0.1:5514, TLS 6514 with a certificate
  OTLP gRPC         127.0.0.1:4317 (otlp.grpc_addr)

SIGTERM or SIGINT stops taking requests, lets running ones finish, flushes
everything to parts (or to Kafka) and exits 0.`, stderr)
	cfgPath := fs.String("config", "", "YAML configuration `file` (default: built-in defaults)")
	dataDir := fs.String("data-dir", "", "data `directory` (overrides data_dir; default ./sluice-data)")
	httpAddr := fs.String("http-addr", "", "HTTP listen `address` (overrides http.addr; default "+config.DefaultHTTPAddr+")")
	role := fs.String("role", "", "`role`: all, gateway, indexer or querier (overrides role; default all)")
	brokers := fs.String("kafka-brokers", "", "Kafka bootstrap `brokers`, HOST:PORT[,…] (overrides kafka.brokers)")
	topic := fs.String("kafka-topic", "", "Kafka `topic` (overrides kafka.topic; default logs)")
	group := fs.String("kafka-consumer-group", "", "indexer: Kafka consumer `group` (overrides kafka.consumer_group; default sluice-indexers); each group holds a full copy")
	indexers := fs.String("indexers", "", "querier: the store indexers' base `URLs`, URL[,URL…] (overrides querier.indexers)")
	instanceID := fs.String("kafka-instance-id", "", "indexer's static group membership `id`, e.g. its pod name (overrides kafka.instance_id)")
	// Validated below, once the flags are applied (a check may depend on
	// --role).
	cfg, err := parseConfigFlagsUnchecked(fs, args, cfgPath)
	if err != nil {
		return err
	}
	if *dataDir != "" {
		cfg.DataDir = *dataDir
	}
	if *httpAddr != "" {
		cfg.HTTP.Addr = *httpAddr
	}
	if *role != "" {
		cfg.Role = *role
	}
	if *brokers != "" {
		cfg.Kafka.Brokers = splitList(*brokers)
	}
	if *topic != "" {
		cfg.Kafka.Topic = *topic
	}
	if *group != "" {
		cfg.Kafka.ConsumerGroup = *group
	}
	if *indexers != "" {
		cfg.Querier.Indexers = splitList(*indexers)
	}
	if *instanceID != "" {
		cfg.Kafka.InstanceID = *instanceID
	}
	if err := cfg.Validate(); err != nil {
		if *cfgPath != "" {
			return fmt.Errorf("config %s: %w", *cfgPath, err)
		}
		return err
	}
	if err := cfg.ReadSecretFiles(); err != nil {
		return err
	}
	if err := faultpoint.Check(); err != nil {
		return err
	}
	log := newLogger(cfg.Log, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	return serve(ctx, cfg, log)
}

// splitList reads a comma-separated flag value.
func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// parseConfigFlags parses a command's flags (it takes no positional
// arguments) and loads the configuration file they name, if any (*cfgPath
// is read after parsing).
func parseConfigFlags(fs *flag.FlagSet, args []string, cfgPath *string) (config.Config, error) {
	cfg, err := parseConfigFlagsUnchecked(fs, args, cfgPath)
	if err == nil && *cfgPath != "" {
		if err = cfg.Validate(); err != nil {
			err = fmt.Errorf("config %s: %w", *cfgPath, err)
		}
	}
	return cfg, err
}

// parseConfigFlagsUnchecked is parseConfigFlags without validating the
// configuration, for a caller that applies flags over it first.
func parseConfigFlagsUnchecked(fs *flag.FlagSet, args []string, cfgPath *string) (config.Config, error) {
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return config.Config{}, err
	}
	if len(pos) > 0 {
		return config.Config{}, usagef("unexpected argument %q", pos[0])
	}
	if *cfgPath == "" {
		return config.Default(), nil
	}
	cfg, err := config.Read(*cfgPath)
	if err != nil {
		return cfg, fmt.Errorf("config %s: %w", *cfgPath, err)
	}
	return cfg, nil
}

func newLogger(c config.LogConfig, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// serve runs the server of cfg.Role until ctx is cancelled, then shuts down
// gracefully.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	log = log.With("role", cfg.Role)
	resolveMemoryLimit(&cfg, log)
	// What memory_limit: auto became must still hold the store's bounds.
	if err := cfg.Validate(); err != nil {
		return err
	}
	defer applyMemoryLimit(cfg, log)()
	switch {
	case cfg.Role == config.RoleGateway:
		return serveGateway(ctx, cfg, log)
	case cfg.Role == config.RoleIndexer && cfg.Sink.Type != "store":
		return serveSearchIndexer(ctx, cfg, log)
	case cfg.Role == config.RoleQuerier:
		return serveQuerier(ctx, cfg, log)
	}
	return serveLocal(ctx, cfg, log)
}

func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// parseKafkaConfigFlags is parseConfigFlags for the commands that talk to
// Kafka: --kafka-brokers (brokers) overrides kafka.brokers, which must not
// be empty, and the secret files are read.
func parseKafkaConfigFlags(fs *flag.FlagSet, args []string, cfgPath, brokers *string) (config.Config, error) {
	cfg, err := parseConfigFlags(fs, args, cfgPath)
	if err != nil {
		return cfg, err
	}
	if *brokers != "" {
		cfg.Kafka.Brokers = splitList(*brokers)
	}
	if len(cfg.Kafka.Brokers) == 0 {
		return cfg, usagef("no Kafka brokers: give --kafka-brokers or kafka.brokers in --config")
	}
	return cfg, cfg.ReadSecretFiles()
}

func kafkaClient(cfg config.Config) kafka.ClientOptions {
	return kafka.ClientOptions{Brokers: cfg.Kafka.Brokers, TLS: cfg.Kafka.TLS, Username: cfg.Kafka.Username, Password: cfg.Kafka.Password}
}

// serveLocal runs the roles with a data directory: all (receivers → WAL →
// store → query API) and indexer with the store sink (Kafka → WAL → store →
// query API).
func serveLocal(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	unlock, err := lockDataDir(cfg.DataDir)
	if err != nil {
		return err
	}
	defer unlock()

	reg := newRegistry()
	key, err := loadSigningKey(cfg, log)
	if err != nil {
		return err
	}
	witness, err := openWitness(cfg, log)
	if err != nil {
		return err
	}
	var publisher *trust.Publisher

	syncInterval, _ := cfg.WAL.SyncInterval()
	w, err := wal.Open(filepath.Join(cfg.DataDir, "wal"), wal.Options{
		SegmentSize:  int64(cfg.WAL.SegmentSize),
		MaxSize:      int64(cfg.WAL.MaxSize),
		SyncInterval: syncInterval,
		SigningKey:   key,
	}, log.With("component", "wal"))
	if err != nil {
		return fmt.Errorf("open write-ahead log: %w", err)
	}
	if !cfg.Query.CPUPriority {
		cpuslot.SetShared(nil) // before any work takes a slot
	}
	st, err := store.Open(filepath.Join(cfg.DataDir, "store"), store.Options{
		BlockRecords:   cfg.Store.BlockRecords,
		MergeFanIn:     cfg.Store.MergeFanIn,
		IdleMergeAfter: idleMergeAfter(cfg.Store.IdleMergeAfter),
		QuietAfter:     time.Duration(cfg.Store.FlushInterval),

		ManifestCheckpointEntries: cfg.Store.ManifestCheckpointEntries,
		SigningKey:                key,
		IndexCacheBytes:           cfg.IndexCacheBytes(),
		MaxOpenFiles:              storeFiles(cfg.Store.MaxOpenFiles, log),
	}, log.With("component", "store"))
	if err != nil {
		_ = w.Close()
		return fmt.Errorf("open store: %w", err)
	}
	resolveConnLimits(&cfg, st.Stats().Files.Max, cfg.Role != config.RoleIndexer, log)
	flushBytes, maxHeadBytes := cfg.HeadBounds()
	var witnessStatus func() trust.PublisherStatus
	if witness != nil {
		witnessStatus = func() trust.PublisherStatus { return publisher.Status() }
	}
	tenants := make(map[string]store.TenantRetention, len(cfg.Store.Tenants))
	for tenant, tr := range cfg.Store.Tenants {
		tenants[tenant] = store.TenantRetention{MaxAge: time.Duration(tr.Retention), MaxBytes: int64(tr.MaxDiskBytes)}
	}
	p, err := pipeline.Open(w, st, pipeline.Options{
		FlushInterval: time.Duration(cfg.Store.FlushInterval),
		FlushBytes:    flushBytes,
		MaxHeadBytes:  maxHeadBytes,
		MergeInterval: time.Duration(cfg.Store.MergeInterval),
		Retention:     time.Duration(cfg.Store.Retention),
		MaxDiskBytes:  int64(cfg.Store.MaxDiskBytes),
		WALMaxBytes:   int64(cfg.WAL.MaxSize),
		MemoryLimit:   int64(cfg.MemoryLimit),
		Witness:       witnessStatus,

		ScrubBytesPerSecond: int64(cfg.Store.ScrubBytesPerSecond),

		TenantRetention: tenants,
	}, pipeline.NewMetrics(reg), log.With("component", "pipeline"))
	if err != nil {
		_ = w.Close()
		_ = st.Close()
		return err
	}
	if witness != nil {
		publisher = startPublisher(cfg, witness, key, p.Head, log)
	}

	sec, err := newSecurity(cfg, p, reg, log)
	if err != nil {
		_ = p.Close(context.Background())
		return err
	}
	// Alerts, metrics from logs and saved searches; an indexer's flows
	// read its own store (polled), as it receives nothing.
	x, err := extrasFor(cfg, api.NewLocalEngine(p), cfg.Role == config.RoleIndexer, reg, log)
	if err != nil {
		sec.close()
		_ = p.Close(context.Background())
		_ = closePublisher(publisher)
		return err
	}
	// Only all runs receivers; an indexer's input is Kafka.
	var routes map[string]http.Handler
	var listeners []listener
	var consumer *kafka.Consumer
	var kafkaStatus func() (*api.KafkaStatus, error)
	if cfg.Role == config.RoleIndexer {
		consumer, kafkaStatus, err = storeConsumer(ctx, cfg, p, reg, log)
	} else {
		// Metrics from logs and flows see what the processing pipeline
		// made of a batch, once it is durable.
		var sink ingest.Sink
		if sink, err = processingSink(ctx, cfg, ingest.LevelSink(ingest.Observed(p, x.observers()...)), reg, log); err == nil {
			routes, listeners, err = buildReceivers(receiverEnv{
				cfg: cfg, sink: sec.ingestSink(sink), metrics: ingest.NewMetrics(reg), registry: reg, log: log, guard: sec.guard,
			})
		}
	}
	if err != nil {
		sec.close()
		_ = p.Close(context.Background())
		_ = closePublisher(publisher)
		return err
	}
	// Other nodes may push their chain heads here (trust.witness: http).
	if routes == nil {
		routes = map[string]http.Handler{}
	}
	maps.Copy(routes, trust.NewServer(filepath.Join(cfg.DataDir, "witness")).Routes())
	var ready func(context.Context) error
	if consumer != nil {
		ready = consumer.Ready
	}
	dashboards := dashboard.NewStore(filepath.Join(cfg.DataDir, "dashboards"))
	dashboards.MaxPerTenant = cfg.Query.MaxDashboards
	handler := api.New(api.Config{
		Backend:  p,
		Ready:    ready,
		Limits:   queryLimits(cfg),
		Ingest:   routes,
		Gatherer: reg,
		Registry: reg,
		Version:  version,
		Log:      log,
		UI:       ui.New(),
		Kafka:    kafkaStatus,
		Guard:    sec.guard,
		Quotas:   sec.quotas,
		// The UI's dashboards, per tenant (docs/api.md#dashboards).
		Dashboards:      dashboards,
		Routes:          x.routes(),
		MaxRequestBytes: int64(cfg.Ingest.MaxRequestBytes),
	})
	run := httpRun{cfg: cfg, log: log, reg: reg, handler: handler, listeners: listeners, metrics: metricsHandler(reg), guard: sec.guard}
	if consumer != nil {
		run.background = consumer.Run
	}
	x.start()
	serveErr := run.serve(ctx, "data_dir", cfg.DataDir)
	x.stop()
	sec.close()
	if err := p.Close(context.Background()); err != nil {
		_ = closePublisher(publisher)
		return fmt.Errorf("final flush: %w", err)
	}
	if err := closePublisher(publisher); err != nil {
		return err
	}
	log.Info("shut down cleanly")
	return serveErr
}

// queryLimits are the query API's bounds from the configuration.
func queryLimits(cfg config.Config) api.QueryLimits {
	return api.QueryLimits{
		DefaultLimit:  cfg.Query.DefaultLimit,
		MaxLimit:      cfg.Query.MaxLimit,
		MaxGroups:     cfg.Query.MaxGroups,
		Timeout:       time.Duration(cfg.Query.Timeout),
		MaxConcurrent: cfg.Query.MaxConcurrent,

		MaxScannedRecords:   cfg.Query.MaxScannedRecords,
		MaxScannedBytes:     int64(cfg.Query.MaxScannedBytes),
		MaxRegexSize:        cfg.Query.MaxRegexSize,
		TailBufferBytes:     cfg.TailBytes(),
		MaxResultBytes:      cfg.ResultBytes(),
		MaxAggregationBytes: cfg.AggregationBytes(),
		WriteTimeout:        time.Duration(cfg.Query.WriteTimeout),
	}
}

// storeConsumer builds the indexer's consumer over the local pipeline,
// and what its status says of its group and partitions (for queriers).
func storeConsumer(ctx context.Context, cfg config.Config, p *pipeline.Pipeline, reg prometheus.Registerer, log *slog.Logger) (*kafka.Consumer, func() (*api.KafkaStatus, error), error) {
	ss, err := sink.OpenStore(ctx, p, p.Searcher(), filepath.Join(cfg.DataDir, "kafka-offsets.json"), log.With("component", "store-sink"))
	if err != nil {
		return nil, nil, fmt.Errorf("open store sink: %w", err)
	}
	c, err := newConsumer(cfg, ss, reg, log)
	if err != nil {
		return nil, nil, err
	}
	status := func() (*api.KafkaStatus, error) {
		stored, err := ss.Stored()
		if err != nil {
			return nil, err
		}
		ks := &api.KafkaStatus{Topic: c.Topic(), Group: c.Group(), Assigned: c.Assigned(), Stored: []api.StoredPartition{}}
		if lag, ok := c.GroupLag(); ok {
			ks.GroupLag = &lag
		}
		for _, sp := range stored {
			ks.Stored = append(ks.Stored, api.StoredPartition{Topic: sp.Topic, Partition: sp.Partition, Done: sp.Done, Ranges: sp.Ranges})
		}
		return ks, nil
	}
	return c, status, nil
}

func newConsumer(cfg config.Config, s sink.Sink, reg prometheus.Registerer, log *slog.Logger) (*kafka.Consumer, error) {
	dec := kafka.NewDecoder(recordConfig(cfg, cfg.Ingest.JSONLine), []byte(cfg.Kafka.TenantSigningKey))
	return kafka.NewConsumer(kafkaClient(cfg), kafka.ConsumerOptions{
		Topic:            cfg.Kafka.Topic,
		Group:            cfg.Kafka.ConsumerGroup,
		DeadLetterTopic:  cfg.Kafka.DeadLetterTopic,
		SinkName:         cfg.Sink.Type,
		SessionTimeout:   time.Duration(cfg.Kafka.SessionTimeout),
		RebalanceTimeout: time.Duration(cfg.Kafka.RebalanceTimeout),
		InstanceID:       cfg.Kafka.InstanceID,
		GroupLagInterval: time.Duration(cfg.Kafka.GroupLagInterval),
		UnreadyAfter:     time.Duration(cfg.Sink.UnreadyAfter),
	}, s, dec, kafka.NewMetrics(reg), log.With("component", "kafka-consumer"))
}

// serveSearchIndexer runs an indexer writing to Elasticsearch/OpenSearch.
// It has no data directory and nothing to query: it serves /healthz,
// /readyz and /metrics.
func serveSearchIndexer(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	reg := newRegistry()
	s, err := openSearchSink(ctx, cfg, reg, log)
	if err != nil {
		return err
	}
	consumer, err := newConsumer(cfg, s, reg, log)
	if err != nil {
		return err
	}
	resolveConnLimits(&cfg, 0, false, log)
	sec, err := newSecurity(cfg, nil, reg, log)
	if err != nil {
		return err
	}
	defer sec.close()
	run := httpRun{cfg: cfg, log: log, reg: reg, handler: roleHandler(reg, sec, nil, consumer.Ready), background: consumer.Run, metrics: metricsHandler(reg), guard: sec.guard}
	serveErr := run.serve(ctx, "sink", cfg.Sink.Type)
	log.Info("shut down cleanly")
	return serveErr
}

// searchSinkOptions are the Elasticsearch/OpenSearch sink's options of cfg.
func searchSinkOptions(cfg config.Config) sink.SearchSinkOptions {
	es := cfg.Sink.Elasticsearch
	workers := es.Workers
	if es.AdaptiveConcurrency {
		// The limiter in the transport decides how many are in flight.
		workers = max(workers, es.MaxConcurrency)
	}
	return sink.SearchSinkOptions{
		DataStreamPrefix: es.DataStreamPrefix, FlushBytes: int(es.FlushBytes), Workers: workers,
		MaxRetries: es.MaxRetries, SetupTemplates: es.SetupTemplates,
		RolloverMaxAge: time.Duration(es.RolloverMaxAge), RolloverMaxPrimaryShardSize: int64(es.RolloverMaxPrimaryShardSize),
		Retention: time.Duration(cfg.Store.Retention), TenantRetention: tenantRetention(cfg),
	}
}

// tenantRetention is the retention of every tenant listed under
// store.tenants (store.retention where it sets none), for the search sinks'
// lifecycle policies.
func tenantRetention(cfg config.Config) map[string]time.Duration {
	m := make(map[string]time.Duration, len(cfg.Store.Tenants))
	for tenant, tr := range cfg.Store.Tenants {
		m[tenant] = time.Duration(cmp.Or(tr.Retention, cfg.Store.Retention))
	}
	return m
}

// serveGateway runs the receivers producing to Kafka. A gateway stores
// nothing, so it has no data directory and no query API: it serves ingest,
// /healthz, /readyz and /metrics. It is ready while it serves, Kafka or
// not: when Kafka is slow or down it answers ingest with 429 and
// Retry-After, which is pushing back, not being broken; taking it out of
// its Service would turn that into refused connections.
func serveGateway(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	reg := newRegistry()
	prod, err := newProducer(cfg, reg, log)
	if err != nil {
		return err
	}
	resolveConnLimits(&cfg, 0, true, log)
	sec, err := newSecurity(cfg, prod, reg, log)
	if err != nil {
		_ = prod.Close(context.Background())
		return err
	}
	// A gateway answers no query: metrics from logs and the Graphite push
	// only (rules and flows run on a querier).
	x, err := extrasFor(cfg, nil, false, reg, log)
	if err != nil {
		sec.close()
		_ = prod.Close(context.Background())
		return err
	}
	// Quotas charge the tenant that sent a batch, before the pipeline
	// spends anything on it (it may route records to other tenants).
	sink, err := processingSink(ctx, cfg, ingest.LevelSink(ingest.Observed(prod, x.observers()...)), reg, log)
	var routes map[string]http.Handler
	var listeners []listener
	if err == nil {
		routes, listeners, err = buildReceivers(receiverEnv{
			cfg: cfg, sink: sec.ingestSink(sink), metrics: ingest.NewMetrics(reg), registry: reg, log: log, guard: sec.guard,
		})
	}
	if err != nil {
		sec.close()
		_ = prod.Close(context.Background())
		return err
	}
	run := httpRun{cfg: cfg, log: log, reg: reg, handler: roleHandler(reg, sec, routes, func(context.Context) error { return nil }), listeners: listeners, metrics: metricsHandler(reg), guard: sec.guard}
	x.start()
	serveErr := run.serve(ctx, "kafka_topic", cfg.Kafka.Topic)
	x.stop()
	sec.close()
	fctx, cancel := context.WithTimeout(context.Background(), time.Duration(cfg.HTTP.ShutdownTimeout))
	defer cancel()
	if err := prod.Close(fctx); err != nil {
		return err
	}
	log.Info("shut down cleanly")
	return serveErr
}

// newProducer is the Kafka producer of cfg: a gateway's for what it
// receives, a querier's for its audit trail.
func newProducer(cfg config.Config, reg prometheus.Registerer, log *slog.Logger) (*kafka.Producer, error) {
	return kafka.NewProducer(kafkaClient(cfg), kafka.ProducerOptions{
		Topic:            cfg.Kafka.Topic,
		Compression:      cfg.Kafka.Compression,
		Linger:           time.Duration(cfg.Kafka.Linger),
		MaxInFlightBytes: int64(cfg.Kafka.MaxInFlightBytes),
		DeliveryTimeout:  time.Duration(cfg.Kafka.DeliveryTimeout),
		TenantSigningKey: []byte(cfg.Kafka.TenantSigningKey),
		Adaptive:         cfg.Kafka.AdaptiveInFlight,
		Limits:           aimd.NewMetrics(reg),
	}, kafka.NewMetrics(reg), log.With("component", "kafka-producer"))
}

// roleHandler is the HTTP surface of a role without a store: ingest routes
// (if any, behind the edge and the quotas), health, readiness and metrics
// (an admin key's when authentication is on).
func roleHandler(reg *prometheus.Registry, sec *security, routes map[string]http.Handler, ready func(context.Context) error) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := ready(ctx); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	mux.Handle("GET /metrics", sec.guard.Require(auth.RoleAdmin, metricsHandler(reg)))
	for pattern, h := range routes {
		if pattern != "GET /{$}" { // Elasticsearch's info document holds no data
			h = api.IngestHandler(sec.guard, sec.quotas, h)
		}
		mux.Handle(pattern, h)
	}
	return mux
}

func metricsHandler(reg prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}

// httpRun serves one role's HTTP handler, its receivers' listeners and a
// background loop (the indexer's consumer) until ctx ends or one of them
// fails, then stops them in order: HTTP requests finish, listeners stop,
// the background loop returns. The caller then closes what they fed.
type httpRun struct {
	cfg        config.Config
	log        *slog.Logger
	reg        prometheus.Registerer
	handler    http.Handler
	listeners  []listener
	background func(ctx context.Context) error
	// metrics is what http.metrics_addr serves besides health.
	metrics http.Handler
	// guard admits admins to the profiler (nil: authentication off).
	guard *auth.Guard
}

func (h httpRun) serve(ctx context.Context, logArgs ...any) error {
	cfg, log := h.cfg, h.log
	ln, err := net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another server running? choose another --http-addr)", cfg.HTTP.Addr, err)
	}
	handler := h.handler
	if cfg.HTTP.Pprof {
		handler = withPprof(handler, h.guard)
		log.Warn("profiler enabled under /debug/pprof/ (http.pprof)")
	}
	tlsCfg, err := httpTLS(cfg, log)
	if err != nil {
		ln.Close()
		return err
	}
	if tlsCfg != nil && cfg.HTTP.TLSClientCAFile != "" {
		handler = requireClientCert(handler)
	}
	// Slowloris: headers and bodies have deadlines, idle keep-alive
	// connections close, and at http.max_connections the connection idle
	// the longest makes room for a new one.
	conns := connlimit.New(connlimit.Options{Name: "http", Max: cfg.HTTP.MaxConnections}, connlimit.NewMetrics(h.reg))
	ln = conns.Listener(ln)
	handler = api.Protect(handler, cfg.HTTP.Addr, cfg.HTTP.AllowedHosts)
	srv := &http.Server{
		Handler:           handler,
		TLSConfig:         tlsCfg,
		ReadHeaderTimeout: time.Duration(cfg.HTTP.ReadHeaderTimeout),
		ReadTimeout:       time.Duration(cfg.HTTP.ReadTimeout),
		IdleTimeout:       time.Duration(cfg.HTTP.IdleTimeout),
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	connlimit.ServeHTTP(srv, conns)
	scheme := "http"
	if tlsCfg != nil {
		scheme = "https"
	}
	served := make(chan error, 1)
	go func() {
		if tlsCfg != nil {
			served <- srv.ServeTLS(ln, "", "")
		} else {
			served <- srv.Serve(ln)
		}
	}()
	log.Info("sluice is serving", append([]any{"version", version, "url", scheme + "://" + ln.Addr().String()}, logArgs...)...)
	if cfg.HTTP.MetricsAddr != "" && h.metrics != nil {
		mln, err := net.Listen("tcp", cfg.HTTP.MetricsAddr)
		if err != nil {
			_ = srv.Close()
			return fmt.Errorf("listen on http.metrics_addr %s: %w", cfg.HTTP.MetricsAddr, err)
		}
		msrv := &http.Server{Handler: probeHandler(h.handler, h.metrics), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = msrv.Serve(mln) }()
		defer msrv.Close()
		log.Info("metrics and probes without a key", "url", "http://"+mln.Addr().String()+"/metrics")
	}

	// Receivers with sockets of their own stop before the final flush, so
	// that everything they acknowledged is in the WAL by then.
	lctx, stopListeners := context.WithCancel(context.Background())
	defer stopListeners()
	var lwg sync.WaitGroup
	for _, l := range h.listeners {
		lwg.Add(1)
		go func() {
			defer lwg.Done()
			log.Info("receiver listening", "addr", l.Addr())
			if err := l.Serve(lctx); err != nil {
				log.Error("receiver stopped", "addr", l.Addr(), "err", err)
			}
		}()
	}
	bctx, stopBackground := context.WithCancel(context.Background())
	defer stopBackground()
	background := make(chan error, 1)
	if h.background != nil {
		go func() { background <- h.background(bctx) }()
	}

	var serveErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down: no new requests; finishing running ones", "timeout", time.Duration(cfg.HTTP.ShutdownTimeout))
	case serveErr = <-served:
		log.Error("HTTP server stopped", "err", serveErr)
	case serveErr = <-background:
		log.Error("consumer stopped", "err", serveErr)
		if serveErr == nil {
			serveErr = errors.New("consumer stopped")
		}
		background <- nil
	}
	sctx, cancel := context.WithTimeout(context.Background(), time.Duration(cfg.HTTP.ShutdownTimeout))
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		// Shutdown waits for requests, it does not end them: their
		// connections close here, which ends their contexts and fails
		// their writes.
		_ = srv.Close()
		log.Warn("requests still running at the shutdown timeout were cut off", "err", err)
	}
	stopListeners()
	lwg.Wait()
	if h.background != nil {
		stopBackground()
		<-background
	}
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return nil
}

// lockDataDir makes sure only one server uses a data directory.
func lockDataDir(dir string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock data directory: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("data directory %s is in use by another sluice process (%w); stop it or choose another --data-dir", dir, err)
	}
	return func() { f.Close() }, nil
}

// idleMergeAfter maps the configuration's 0 (off) to the store's negative.
func idleMergeAfter(d config.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return time.Duration(d)
}
