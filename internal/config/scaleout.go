package config

import (
	"fmt"
	"strings"
	"time"
)

// Roles of `sluice serve`.
const (
	RoleAll     = "all"
	RoleGateway = "gateway"
	RoleIndexer = "indexer"
)

// KafkaConfig configures the scale-out roles' Kafka client.
type KafkaConfig struct {
	Brokers          []string `yaml:"brokers" doc:"Kafka bootstrap brokers (host:port); required by the gateway and indexer roles. A querier with brokers produces its audit events (refused keys, admin actions) to topic, into the indexers' audit tenant."`
	Topic            string   `yaml:"topic" doc:"Topic that gateways produce records to and indexers consume, one JSON object per message."`
	ConsumerGroup    string   `yaml:"consumer_group" doc:"Consumer group of the indexers. Indexers in different groups each hold a full copy of the topic (a replica); a querier asks one copy of every partition."`
	SessionTimeout   Duration `yaml:"session_timeout" doc:"Indexer: how long the group waits for a member that stopped heartbeating (crashed) before its partitions move to the others."`
	InstanceID       string   `yaml:"instance_id" doc:"Indexer: static group membership (Kafka's group.instance.id), unique per indexer, e.g. a StatefulSet pod's name (--kafka-instance-id). An indexer restarted with the same ID within session_timeout gets its partitions back without a rebalance, so no other member consumes what it had stored but not yet committed; it does not leave the group when it stops, so its partitions wait session_timeout before moving. Empty: dynamic membership."`
	RebalanceTimeout Duration `yaml:"rebalance_timeout" doc:"Indexer: how long a rebalance waits for every member to rejoin. A member finishes its batch (sink write, commit) before it rejoins, and one that died in the middle of a rebalance holds its partitions this long."`
	GroupLagInterval Duration `yaml:"group_lag_interval" doc:"Indexer: how often the whole consumer group's lag (committed against end offsets of every partition of the topic) is read from the brokers for sluice_kafka_group_lag, whatever this indexer's own consumption does."`
	DeadLetterTopic  string   `yaml:"dead_letter_topic" doc:"Topic for records a sink refused for good (e.g. mapping conflicts), with the reason in a header."`
	Compression      string   `yaml:"compression" doc:"Producer batch compression: zstd, lz4, snappy, gzip or none."`
	Linger           Duration `yaml:"linger" doc:"How long the producer waits to fill a batch."`
	MaxInFlightBytes ByteSize `yaml:"max_in_flight_bytes" doc:"Gateway: bytes produced but not yet acknowledged by Kafka; above it, ingest answers 429."`
	AdaptiveInFlight bool     `yaml:"adaptive_in_flight" doc:"Gateway: adapt the bound on bytes in flight between a 64th of max_in_flight_bytes and all of it, in steps of a 64th, starting at a quarter: one step more per round trip while produce latency stays flat and the bound is used, 10% less when it rises, when records fail with a timeout or a retriable broker error, or when a broker throttles (AIMD, as sink.elasticsearch.adaptive_concurrency); the bound in steps is sluice_sink_concurrency{sink=\"kafka\"}. A request that finds it full waits up to a second for room, then is answered 429. Off: max_in_flight_bytes alone, 429 at once above it."`
	DeliveryTimeout  Duration `yaml:"delivery_timeout" doc:"Gateway: how long a request waits for Kafka to acknowledge its records before it is answered 429 (the client retries; Kafka may still have taken them, so a retry can duplicate)."`
	TLS              bool     `yaml:"tls" doc:"Connect to the brokers over TLS (system roots)."`
	Username         string   `yaml:"username" doc:"SASL/PLAIN username (empty: no SASL)."`
	Password         string   `yaml:"password" doc:"SASL/PLAIN password. Never logged."`
	PasswordFile     string   `yaml:"password_file" doc:"File holding the SASL/PLAIN password (a mounted Kubernetes or compose secret), read on start instead of password; a trailing newline is ignored."`

	TenantSigningKey     string `yaml:"tenant_signing_key" doc:"A secret shared by gateways and indexers: gateways sign each message's tenant (header sluice-tenant-mac, HMAC-SHA256 of the tenant and the message), indexers dead-letter a gateway message whose signature is missing or wrong, so that a producer that can write to the topic but lacks the key cannot choose a tenant. Empty: indexers trust the sluice-tenant header of every gateway message (then only gateways must be able to write to the topic). A record's own _tenant field is never read either way."`
	TenantSigningKeyFile string `yaml:"tenant_signing_key_file" doc:"File holding tenant_signing_key (a mounted Secret), read on start instead of it; a trailing newline is ignored."`
}

// SinkConfig selects where an indexer writes.
type SinkConfig struct {
	Type          string              `yaml:"type" doc:"Where indexers write: store (the embedded store), elasticsearch or opensearch."`
	UnreadyAfter  Duration            `yaml:"unready_after" doc:"An indexer whose sink (or dead-letter produce) has failed without a success for longer than this answers /readyz with 503 (it keeps retrying with backoff; a slow sink is not a failing one)."`
	Elasticsearch ElasticsearchConfig `yaml:"elasticsearch" doc:"Elasticsearch or OpenSearch sink settings (for type elasticsearch or opensearch)."`
}

// ElasticsearchConfig configures the Elasticsearch/OpenSearch sink.
type ElasticsearchConfig struct {
	Addresses                   []string `yaml:"addresses" doc:"Cluster URLs."`
	DataStreamPrefix            string   `yaml:"data_stream_prefix" doc:"Records go to one data stream per tenant, <prefix>-<tenant> (the default tenant's is <prefix>-default; a tenant name other than lower-case letters, digits and _ is cleaned and gets a hash suffix). It must not be logs, metrics, traces or synthetics nor start with one of them and '-', so that the streams stay outside the patterns of Elasticsearch's built-in templates (logs-*-* …), which Sluice's templates must not override."`
	Username                    string   `yaml:"username" doc:"Basic-auth username."`
	Password                    string   `yaml:"password" doc:"Basic-auth password. Never logged."`
	PasswordFile                string   `yaml:"password_file" doc:"File holding the basic-auth password (a mounted Kubernetes or compose secret), read on start instead of password; a trailing newline is ignored."`
	APIKey                      string   `yaml:"api_key" doc:"API key (Elasticsearch); instead of username/password."`
	APIKeyFile                  string   `yaml:"api_key_file" doc:"File holding the API key, read on start instead of api_key; a trailing newline is ignored."`
	FlushBytes                  ByteSize `yaml:"flush_bytes" doc:"Bulk request size."`
	Workers                     int      `yaml:"workers" doc:"Concurrent bulk requests (with adaptive_concurrency: where the adaptive limit starts)."`
	AdaptiveConcurrency         bool     `yaml:"adaptive_concurrency" doc:"Adapt the bulk requests in flight between 1 and max_concurrency: one more per round trip while round trips stay as fast and the limit is used, 10% fewer on 429, 502, 503, 504, bulk items refused with 429, a timeout or a slower round trip (AIMD, after Vector's adaptive request concurrency); the limit is sluice_sink_concurrency. A full limit makes the indexer wait (it consumes more slowly), never drop."`
	MaxConcurrency              int      `yaml:"max_concurrency" doc:"With adaptive_concurrency: the most bulk requests in flight."`
	MaxRetries                  int      `yaml:"max_retries" doc:"Retries with backoff of a bulk request, and of items refused for reasons other than their content (429, 5xx, 401/403, cluster blocks), before the batch fails and is retried later."`
	SetupTemplates              bool     `yaml:"setup_templates" doc:"On start (and until it succeeds, before the first write), create or update idempotently the lifecycle policies (Elasticsearch ILM, OpenSearch ISM), the index templates and the data streams. Retention comes from store.retention and store.tenants.<tenant>.retention, the same settings as the embedded store's: one catch-all template and policy for every tenant, and one per tenant listed under store.tenants."`
	RolloverMaxAge              Duration `yaml:"rollover_max_age" doc:"Lifecycle policy: roll a stream over to a new backing index at this age (ILM max_age, ISM min_index_age). An index is deleted once it has been rolled over for the tenant's retention, so records are kept at least the retention and at most the retention plus this."`
	RolloverMaxPrimaryShardSize ByteSize `yaml:"rollover_max_primary_shard_size" doc:"Lifecycle policy: roll a stream over once a primary shard of its write index is this large (ILM max_primary_shard_size, ISM min_primary_shard_size)."`
}

func defaultScaleOut(c *Config) {
	c.Role = RoleAll
	c.Kafka = KafkaConfig{
		Topic:            "logs",
		ConsumerGroup:    "sluice-indexers",
		SessionTimeout:   Duration(45 * time.Second),
		RebalanceTimeout: Duration(60 * time.Second),
		GroupLagInterval: Duration(2 * time.Second),
		DeadLetterTopic:  "logs-dead-letter",
		Compression:      "zstd",
		Linger:           Duration(5 * time.Millisecond),
		MaxInFlightBytes: 64 << 20,
		AdaptiveInFlight: true,
		DeliveryTimeout:  Duration(30 * time.Second),
	}
	c.Sink = SinkConfig{
		Type:         "store",
		UnreadyAfter: Duration(30 * time.Second),
		Elasticsearch: ElasticsearchConfig{
			DataStreamPrefix:            "sluice-logs",
			FlushBytes:                  5 << 20,
			Workers:                     2,
			AdaptiveConcurrency:         true,
			MaxConcurrency:              16,
			MaxRetries:                  5,
			SetupTemplates:              true,
			RolloverMaxAge:              Duration(24 * time.Hour),
			RolloverMaxPrimaryShardSize: 50 << 30,
		},
	}
}

func (c *Config) validateScaleOut() []error {
	var errs []error
	switch c.Role {
	case RoleAll, RoleGateway, RoleIndexer, RoleQuerier:
	default:
		errs = append(errs, fmt.Errorf("role must be all, gateway, indexer or querier, got %q", c.Role))
	}
	if c.Role == RoleIndexer && c.Kafka.DeadLetterTopic == "" {
		errs = append(errs, fmt.Errorf("role indexer needs kafka.dead_letter_topic: refused messages are never dropped"))
	}
	if (c.Role == RoleGateway || c.Role == RoleIndexer) && len(c.Kafka.Brokers) == 0 {
		errs = append(errs, fmt.Errorf("role %s needs kafka.brokers (or --kafka-brokers)", c.Role))
	}
	if c.Kafka.GroupLagInterval <= 0 {
		errs = append(errs, fmt.Errorf("kafka.group_lag_interval must be above 0, got %v", c.Kafka.GroupLagInterval))
	}
	if c.Sink.UnreadyAfter <= 0 {
		errs = append(errs, fmt.Errorf("sink.unready_after must be above 0, got %v", c.Sink.UnreadyAfter))
	}
	switch c.Kafka.Compression {
	case "zstd", "lz4", "snappy", "gzip", "none":
	default:
		errs = append(errs, fmt.Errorf("kafka.compression must be zstd, lz4, snappy, gzip or none, got %q", c.Kafka.Compression))
	}
	switch c.Sink.Type {
	case "store":
	case "elasticsearch", "opensearch":
		if len(c.Sink.Elasticsearch.Addresses) == 0 {
			errs = append(errs, fmt.Errorf("sink.type %s needs sink.elasticsearch.addresses", c.Sink.Type))
		}
		if err := validStreamPrefix(c.Sink.Elasticsearch.DataStreamPrefix); err != nil {
			errs = append(errs, err)
		}
		if es := c.Sink.Elasticsearch; es.AdaptiveConcurrency && (es.Workers < 1 || es.MaxConcurrency < es.Workers) {
			errs = append(errs, fmt.Errorf("sink.elasticsearch.adaptive_concurrency needs 1 <= workers <= max_concurrency, got workers %d, max_concurrency %d", es.Workers, es.MaxConcurrency))
		}
	default:
		errs = append(errs, fmt.Errorf("sink.type must be store, elasticsearch or opensearch, got %q", c.Sink.Type))
	}
	return errs
}

// validStreamPrefix checks sink.elasticsearch.data_stream_prefix: what
// both clusters take in an index name (lower case, no \ / * ? " < > | , #
// space or :, not starting with - _ +) and outside the patterns of
// Elasticsearch's built-in templates.
func validStreamPrefix(p string) error {
	if p == "" {
		return fmt.Errorf("sink.elasticsearch.data_stream_prefix is empty")
	}
	if strings.ContainsAny(p, "\\/*?\"<>|, #:") || strings.ToLower(p) != p || strings.ContainsAny(p[:1], "-_+.") {
		return fmt.Errorf("sink.elasticsearch.data_stream_prefix %q: use lower-case letters, digits, '-', '_' and '.', not first '-', '_', '+' or '.'", p)
	}
	// The catch-all template's pattern <prefix>-* overlaps <builtin>-*-*
	// exactly when the prefix is the built-in's type or starts with it and
	// a '-'.
	for _, builtin := range []string{"logs", "metrics", "traces", "synthetics"} {
		if p == builtin || strings.HasPrefix(p, builtin+"-") {
			return fmt.Errorf("sink.elasticsearch.data_stream_prefix %q: the pattern %s-* overlaps Elasticsearch's built-in %s-*-* template, which Sluice must not override; choose a prefix outside it (default sluice-logs)", p, p, builtin)
		}
	}
	return nil
}
