package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// AuthConfig turns authentication on.
type AuthConfig struct {
	Enabled        bool     `yaml:"enabled" doc:"Require an API key on every endpoint but /healthz, /readyz and the UI's files: keys carry roles (ingest, query, admin) and the tenants they act for, and the tenant comes from the key (X-Scope-OrgID only chooses among the key's own tenants). Off by default for the single-user start on loopback; on in every deployment manifest. See docs/security.md."`
	KeysFile       string   `yaml:"keys_file" doc:"The keys file (JSON, hashes only) that sluice keys create/list/revoke edit. The server re-reads it within reload_interval of a change, without a restart; a file that does not parse leaves the keys in force and is logged."`
	ReloadInterval Duration `yaml:"reload_interval" doc:"How often the server looks whether keys_file (and the TLS certificates) changed."`
}

// QuotasConfig bounds what each tenant may take.
type QuotasConfig struct {
	Default       TenantQuota  `yaml:"default" doc:"The quotas of every tenant without an entry under tenants; 0 is no bound."`
	Tenants       TenantQuotas `yaml:"tenants" doc:"Quotas per tenant, replacing default's for that tenant as a whole, e.g. {acme: {ingest_bytes_per_second: 10MiB, query_max_concurrent: 4}}. The keys are those of default."`
	IngestHold    Duration     `yaml:"ingest_hold" doc:"How long an HTTP ingest request of a tenant over its ingest_bytes_per_second is held, unread, at least, before it is refused with 429 and Retry-After; it is admitted as soon as the tenant's quota allows it. A tenant's held requests queue, and a new request queues behind them even when the debt is paid: the first is admitted when the debt is paid, each other one when its turn comes within its own hold (see ingest_max_hold), else it is refused as its hold ends, so that the refusals do not all come at once. A flooder that ignores Retry-After and retries at once then sends one request per connection per hold instead of thousands, each costing the server a request's handling (the flood benchmark in docs/benchmarks.md). 0 answers at once."`
	IngestMaxHold Duration     `yaml:"ingest_max_hold" doc:"The longest hold (see ingest_hold) of a request of a tenant over its quota: a held request waits for the debt and the held requests before it to be paid at the tenant's rate, up to ingest_max_hold; one whose turn would come later is held between 3/4 of ingest_max_hold and all of it, then refused with Retry-After the time its turn is expected. So a tenant a little over its quota waits only what it owes, and the deeper a flood, the fewer refusals it costs: one per connection per ingest_max_hold (the flood benchmark in docs/benchmarks.md). Clients must wait this long for an answer (Filebeat's default timeout is 90s, Vector's 60s). Below http.read_timeout. Not above ingest_hold: every hold is between 3/4 of ingest_hold and ingest_hold."`
	IngestMaxHeld int          `yaml:"ingest_max_held" doc:"Most HTTP ingest requests of one tenant held at once by ingest_hold; past it they are answered at once. 0 is no bound of its own: a held request's connection counts as idle for http.max_connections, so at that bound new connections displace held ones (the longest idle first) and one tenant's held connections cannot take every connection slot. A bound below the connections a flooder opens makes the rest be refused at once, and retried at once, thousands of times a second (the flood benchmark in docs/benchmarks.md)."`
}

// TenantQuota is one tenant's quotas.
type TenantQuota struct {
	IngestBytesPerSecond ByteSize `yaml:"ingest_bytes_per_second" doc:"Record bytes (as stored: message, labels and fields) a tenant may ingest per second, averaged over ingest_burst_bytes; past it that tenant's requests get 429 with Retry-After (forward withholds its ack, syslog TCP stops reading), while other tenants go on. An uncompressed HTTP request of known length (Content-Length) is charged its body's bytes before the body is read, and refused unread once the tenant is over (see quotas.ingest_hold). 0 is no bound."`
	IngestBurstBytes     ByteSize `yaml:"ingest_burst_bytes" doc:"How far above its rate a tenant may go at once; 0 means one second of ingest_bytes_per_second (and at least 1MiB)."`
	QueryMaxConcurrent   int      `yaml:"query_max_concurrent" doc:"Queries of one tenant that may run at once (query, hits, field names, context, explain, live tail); more get 429 with Retry-After at once, so that one tenant never holds every slot of query.max_concurrent. 0 is no bound."`
	QueryMaxScanned      int64    `yaml:"query_max_scanned_records" doc:"Most records one query of the tenant may decode (as query.max_scanned_records, which still bounds it); past it the query stops with 422. 0 is no bound of its own."`
}

// TenantQuotas maps a tenant to its quotas.
type TenantQuotas map[string]TenantQuota

// String renders the quotas for the generated documentation.
func (t TenantQuotas) String() string {
	if len(t) == 0 {
		return "{}"
	}
	b, err := yaml.Marshal(map[string]TenantQuota(t))
	if err != nil {
		return fmt.Sprint(map[string]TenantQuota(t))
	}
	return strings.TrimSpace(string(b))
}

// Of returns tenant's quotas.
func (q QuotasConfig) Of(tenant string) TenantQuota {
	if tq, ok := q.Tenants[tenant]; ok {
		return tq
	}
	return q.Default
}

func defaultAuth(c *Config) {
	c.Auth = AuthConfig{ReloadInterval: Duration(time.Second)}
	c.Quotas.IngestHold = Duration(time.Second)
	c.Quotas.IngestMaxHold = Duration(10 * time.Second)
}

func (c *Config) validateAuth() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Auth.ReloadInterval <= 0 || c.Auth.ReloadInterval > Duration(5*time.Second) {
		bad("auth.reload_interval must be positive and at most 5s, got %s", c.Auth.ReloadInterval)
	}
	for _, name := range slices.Sorted(maps.Keys(c.Quotas.Tenants)) {
		errs = append(errs, c.Quotas.Tenants[name].validate("quotas.tenants["+name+"]")...)
	}
	errs = append(errs, c.Quotas.Default.validate("quotas.default")...)
	if c.Quotas.IngestHold < 0 || c.Quotas.IngestMaxHold < 0 || c.Quotas.IngestMaxHeld < 0 {
		bad("quotas.ingest_hold, quotas.ingest_max_hold and quotas.ingest_max_held must not be negative")
	}
	// A held request's body is read after its hold, within the request's
	// http.read_timeout: a longer hold would fail every admitted request.
	if hold := max(c.Quotas.IngestHold, c.Quotas.IngestMaxHold); hold >= c.HTTP.ReadTimeout && c.HTTP.ReadTimeout > 0 {
		bad("quotas.ingest_hold and quotas.ingest_max_hold must be below http.read_timeout (%s), got %s", c.HTTP.ReadTimeout, hold)
	}
	if !c.Auth.Enabled {
		return errs
	}
	if c.Auth.KeysFile == "" {
		bad("auth.enabled needs auth.keys_file (create one with: sluice keys create --keys-file PATH --name NAME --tenant TENANT --role ingest,query)")
	}
	if c.Forward.Enabled && c.Role != RoleIndexer && c.Role != RoleQuerier {
		if c.Forward.SharedKey == "" && c.Forward.SharedKeyFile == "" || len(c.Forward.Users) == 0 {
			bad("auth.enabled: forward needs shared_key (or shared_key_file) and users, each with its tenant, or forward.enabled: false")
		}
		for _, u := range c.Forward.Users {
			if u.Tenant == "" {
				bad("auth.enabled: forward.users[%q] needs a tenant", u.Username)
			}
		}
	}
	if c.Syslog.Enabled && c.Role != RoleIndexer && c.Role != RoleQuerier {
		if (c.Syslog.UDPAddr != "" || c.Syslog.TCPAddr != "") && c.Syslog.PlaintextAllowed() {
			bad("auth.enabled: syslog over UDP and plain TCP cannot authenticate; use syslog.tls with client_ca_file (the tenant is the client certificate's CN; the plaintext listeners are then off), clear syslog.udp_addr and syslog.tcp_addr, or set syslog.enabled: false")
		}
		if c.Syslog.TLS.Enabled() && c.Syslog.TLS.ClientCAFile == "" {
			bad("auth.enabled: syslog.tls needs client_ca_file: the tenant is the client certificate's CN")
		}
	}
	return errs
}

func (q TenantQuota) validate(section string) []error {
	if q.IngestBytesPerSecond < 0 || q.IngestBurstBytes < 0 || q.QueryMaxConcurrent < 0 || q.QueryMaxScanned < 0 {
		return []error{fmt.Errorf("%s: quotas must not be negative", section)}
	}
	return nil
}
