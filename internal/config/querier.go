package config

import (
	"fmt"
	"net/url"
	"time"
)

// RoleQuerier fans each query out over the store indexers and merges
// their answers.
const RoleQuerier = "querier"

// QuerierConfig configures the querier role.
type QuerierConfig struct {
	Indexers         []string `yaml:"indexers" doc:"Base URLs of the store indexers (http://host:9280), every replica of every consumer group; required by the querier role. The querier learns each one's consumer group and Kafka partitions from its /api/v1/status."`
	PollInterval     Duration `yaml:"poll_interval" doc:"How often the querier reads every indexer's status (group, partitions, health). An indexer that fails a query is marked down at once and asked again at the next poll."`
	MaxCopyLag       int64    `yaml:"max_copy_lag" doc:"How many Kafka offsets a group's copy of a partition may be behind the most advanced copy that is up and still take its turn; a copy further behind (a group catching up) is asked only when no other can answer."`
	APIKey           string   `yaml:"api_key" doc:"With auth.enabled on the indexers: a key with role admin (and tenants *) that the querier reads the indexers' status with. Queries carry their caller's own key to the indexers, which check it again."`
	APIKeyFile       string   `yaml:"api_key_file" doc:"File holding api_key (a mounted Secret), read on start instead of api_key; a trailing newline is ignored."`
	TLSCAFile        string   `yaml:"tls_ca_file" doc:"PEM CA bundle that signed the https:// indexers' certificates, when the system does not trust it."`
	TLSCertFile      string   `yaml:"tls_cert_file" doc:"PEM client certificate the querier presents to indexers that require one (their http.tls_client_ca_file); re-read when it changes, as the listeners' certificates are."`
	TLSKeyFile       string   `yaml:"tls_key_file" doc:"PEM private key of tls_cert_file."`
	MaxResponseBytes ByteSize `yaml:"max_response_bytes" doc:"Largest partial answer the querier reads from one indexer (the groups and states of a stats pipe, or the newest records); a larger one fails the query."`
}

func defaultQuerier(c *Config) {
	c.Querier = QuerierConfig{
		PollInterval:     Duration(2 * time.Second),
		MaxCopyLag:       10000,
		MaxResponseBytes: 512 << 20,
	}
}

func (c *Config) validateQuerier() []error {
	var errs []error
	if c.Role == RoleQuerier && len(c.Querier.Indexers) == 0 {
		errs = append(errs, fmt.Errorf("role querier needs querier.indexers (or --indexers)"))
	}
	for _, u := range c.Querier.Indexers {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			errs = append(errs, fmt.Errorf("querier.indexers: %q is not an http:// or https:// URL", u))
		}
	}
	if c.Querier.PollInterval <= 0 {
		errs = append(errs, fmt.Errorf("querier.poll_interval must be positive"))
	}
	if c.Querier.MaxCopyLag < 0 {
		errs = append(errs, fmt.Errorf("querier.max_copy_lag must not be negative"))
	}
	if (c.Querier.TLSCertFile == "") != (c.Querier.TLSKeyFile == "") {
		errs = append(errs, fmt.Errorf("querier.tls_cert_file and querier.tls_key_file go together"))
	}
	if c.Querier.MaxResponseBytes <= 0 {
		errs = append(errs, fmt.Errorf("querier.max_response_bytes must be positive"))
	}
	return errs
}
