package config

import (
	"fmt"
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
	Brokers          []string `yaml:"brokers" doc:"Kafka bootstrap brokers (host:port); required by the gateway and indexer roles."`
	Topic            string   `yaml:"topic" doc:"Topic that gateways produce records to and indexers consume, one JSON object per message."`
	ConsumerGroup    string   `yaml:"consumer_group" doc:"Consumer group of the indexers. Indexers in different groups each hold a full copy of the topic (a replica); a querier asks one copy of every partition."`
	SessionTimeout   Duration `yaml:"session_timeout" doc:"Indexer: how long the group waits for a member that stopped heartbeating (crashed) before its partitions move to the others."`
	DeadLetterTopic  string   `yaml:"dead_letter_topic" doc:"Topic for records a sink refused for good (e.g. mapping conflicts), with the reason in a header."`
	Compression      string   `yaml:"compression" doc:"Producer batch compression: zstd, lz4, snappy, gzip or none."`
	Linger           Duration `yaml:"linger" doc:"How long the producer waits to fill a batch."`
	MaxInFlightBytes ByteSize `yaml:"max_in_flight_bytes" doc:"Gateway: bytes produced but not yet acknowledged by Kafka; above it, ingest answers 429."`
	DeliveryTimeout  Duration `yaml:"delivery_timeout" doc:"Gateway: how long a request waits for Kafka to acknowledge its records before it is answered 429 (the client retries; Kafka may still have taken them, so a retry can duplicate)."`
	TLS              bool     `yaml:"tls" doc:"Connect to the brokers over TLS (system roots)."`
	Username         string   `yaml:"username" doc:"SASL/PLAIN username (empty: no SASL)."`
	Password         string   `yaml:"password" doc:"SASL/PLAIN password. Never logged."`
	PasswordFile     string   `yaml:"password_file" doc:"File holding the SASL/PLAIN password (a mounted Kubernetes or compose secret), read on start instead of password; a trailing newline is ignored."`
}

// SinkConfig selects where an indexer writes.
type SinkConfig struct {
	Type          string              `yaml:"type" doc:"Where indexers write: store (the embedded store), elasticsearch or opensearch."`
	Elasticsearch ElasticsearchConfig `yaml:"elasticsearch" doc:"Elasticsearch or OpenSearch sink settings (for type elasticsearch or opensearch)."`
}

// ElasticsearchConfig configures the Elasticsearch/OpenSearch sink.
type ElasticsearchConfig struct {
	Addresses      []string `yaml:"addresses" doc:"Cluster URLs."`
	Index          string   `yaml:"index" doc:"Data stream (or index) that records are written to."`
	Username       string   `yaml:"username" doc:"Basic-auth username."`
	Password       string   `yaml:"password" doc:"Basic-auth password. Never logged."`
	PasswordFile   string   `yaml:"password_file" doc:"File holding the basic-auth password (a mounted Kubernetes or compose secret), read on start instead of password; a trailing newline is ignored."`
	APIKey         string   `yaml:"api_key" doc:"API key (Elasticsearch); instead of username/password."`
	APIKeyFile     string   `yaml:"api_key_file" doc:"File holding the API key, read on start instead of api_key; a trailing newline is ignored."`
	FlushBytes     ByteSize `yaml:"flush_bytes" doc:"Bulk request size."`
	Workers        int      `yaml:"workers" doc:"Concurrent bulk requests."`
	MaxRetries     int      `yaml:"max_retries" doc:"Retries with backoff of a bulk request or item refused with 429 or 5xx."`
	SetupTemplates bool     `yaml:"setup_templates" doc:"Create the index template / data stream on start."`
}

func defaultScaleOut(c *Config) {
	c.Role = RoleAll
	c.Kafka = KafkaConfig{
		Topic:            "logs",
		ConsumerGroup:    "sluice-indexers",
		SessionTimeout:   Duration(45 * time.Second),
		DeadLetterTopic:  "logs-dead-letter",
		Compression:      "zstd",
		Linger:           Duration(5 * time.Millisecond),
		MaxInFlightBytes: 64 << 20,
		DeliveryTimeout:  Duration(30 * time.Second),
	}
	c.Sink = SinkConfig{
		Type: "store",
		Elasticsearch: ElasticsearchConfig{
			Index:          "logs-sluice-default",
			FlushBytes:     5 << 20,
			Workers:        2,
			MaxRetries:     5,
			SetupTemplates: true,
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
	default:
		errs = append(errs, fmt.Errorf("sink.type must be store, elasticsearch or opensearch, got %q", c.Sink.Type))
	}
	return errs
}
