package config

import (
	"fmt"
	"time"

	"github.com/sluice-log/sluice/internal/tenant"
)

// TLSConfig enables TLS on a listener. Both files set: TLS only; neither:
// plaintext. ClientCAFile additionally requires client certificates.
type TLSConfig struct {
	CertFile     string `yaml:"cert_file" doc:"PEM certificate (chain) of this listener; with key_file, the listener speaks TLS only."`
	KeyFile      string `yaml:"key_file" doc:"PEM private key of cert_file."`
	ClientCAFile string `yaml:"client_ca_file" doc:"PEM CA bundle; when set, clients must present a certificate signed by it."`
}

// Enabled reports whether TLS is configured.
func (t TLSConfig) Enabled() bool { return t.CertFile != "" }

// PlaintextAllowed reports whether the syslog receiver runs its plaintext
// listeners (UDP, TCP): unless the TLS listener requires client
// certificates and allow_plaintext does not keep them.
func (s SyslogConfig) PlaintextAllowed() bool { return s.TLS.ClientCAFile == "" || s.AllowPlaintext }

// OTLPOverHTTP reports whether OTLP over HTTP (/v1/logs) is served: unless
// otlp.tls requires client certificates on gRPC, the HTTP listener does
// not require them, and otlp.allow_plaintext does not keep it.
func (c Config) OTLPOverHTTP() bool {
	return c.OTLP.TLS.ClientCAFile == "" || c.HTTP.TLSClientCAFile != "" || c.OTLP.AllowPlaintext
}

func (t TLSConfig) validate(section string) []error {
	if (t.CertFile == "") != (t.KeyFile == "") {
		return []error{fmt.Errorf("%s.tls: cert_file and key_file must be set together", section)}
	}
	if t.ClientCAFile != "" && t.CertFile == "" {
		return []error{fmt.Errorf("%s.tls: client_ca_file needs cert_file and key_file", section)}
	}
	return nil
}

// ForwardConfig configures the Fluentd forward protocol receiver.
type ForwardConfig struct {
	Enabled         bool      `yaml:"enabled" doc:"Accept the Fluentd forward protocol (Docker's fluentd log driver, Fluentd, Fluent Bit)."`
	Addr            string    `yaml:"addr" doc:"TCP listen address; the UDP heartbeat listens on the same port. Use :24224 to accept other hosts."`
	TLS             TLSConfig `yaml:"tls" doc:"TLS for the forward listener."`
	SharedKey       string    `yaml:"shared_key" doc:"When set, clients must pass the HELO/PING/PONG handshake with this shared key."`
	SharedKeyFile   string    `yaml:"shared_key_file" doc:"File holding the shared key (a mounted Kubernetes or compose secret), read on start instead of shared_key; a trailing newline is ignored."`
	Users           []User    `yaml:"users" doc:"With shared_key: username/password/tenant entries clients must authenticate with (Fluentd's <security><user>; empty: no user auth). A user's records go to its tenant (tenant names as in docs/security.md; empty is the default tenant); with auth.enabled every user needs one."`
	MaxMessageBytes ByteSize  `yaml:"max_message_bytes" doc:"Largest forward message (one msgpack array, decompressed); a client sending more is disconnected."`
	MaxConnections  int       `yaml:"max_connections" doc:"Most open client connections. At the bound a new connection displaces the one that sent no whole message for the longest, and is refused only when every other one is storing a batch. 0 gives the listener its share of the file descriptors (see docs/security.md), -1 means no bound."`
	ReadTimeout     Duration  `yaml:"read_timeout" doc:"Close a connection idle for this long."`
}

// User is a forward client's username and password, and the tenant its
// records go to (Fluentd's <security><user>; required with auth.enabled).
type User struct {
	Username string `yaml:"username" doc:"The user's name."`
	Password string `yaml:"password" doc:"The user's password."`
	// PasswordFile keeps the password out of the configuration file (a
	// ConfigMap in Kubernetes), as every other secret can be.
	PasswordFile string `yaml:"password_file" doc:"File holding the user's password (a mounted Kubernetes or compose secret), read on start instead of password; a trailing newline is ignored."`
	Tenant       string `yaml:"tenant" doc:"The tenant the user's records go to."`
}

// SyslogConfig configures the syslog receiver.
type SyslogConfig struct {
	Enabled         bool      `yaml:"enabled" doc:"Accept syslog (RFC 5424 and RFC 3164)."`
	UDPAddr         string    `yaml:"udp_addr" doc:"UDP listen address; empty disables UDP."`
	TCPAddr         string    `yaml:"tcp_addr" doc:"TCP listen address (octet counting or newline framing); empty disables TCP."`
	TLSAddr         string    `yaml:"tls_addr" doc:"TLS listen address (RFC 5425); used only when tls.cert_file is set."`
	TLS             TLSConfig `yaml:"tls" doc:"Certificate for tls_addr."`
	MaxMessageBytes ByteSize  `yaml:"max_message_bytes" doc:"Largest syslog message; longer ones are rejected (TCP) or dropped and counted (UDP)."`
	MaxConnections  int       `yaml:"max_connections" doc:"Most open connections of the TCP listener, and of the TLS listener. At the bound a new connection displaces the one that sent no whole message for the longest, and is refused only when every other one waits for the store. 0 gives each listener its share of the file descriptors (see docs/security.md), -1 means no bound."`
	ReadTimeout     Duration  `yaml:"read_timeout" doc:"Close a TCP connection idle for this long."`
	StreamFields    []string  `yaml:"stream_fields" doc:"Syslog fields that become stream labels."`
	AllowPlaintext  bool      `yaml:"allow_plaintext" doc:"Keep the plaintext listeners (udp_addr, tcp_addr) when tls.client_ca_file requires client certificates on the TLS listener. Off by default: they would take from anyone what the TLS listener takes only from holders of a certificate."`
}

// OTLPConfig configures the OpenTelemetry logs receiver.
type OTLPConfig struct {
	Enabled         bool      `yaml:"enabled" doc:"Accept OTLP logs: over HTTP at /v1/logs on the HTTP listener, and over gRPC."`
	GRPCAddr        string    `yaml:"grpc_addr" doc:"gRPC listen address; empty disables gRPC."`
	TLS             TLSConfig `yaml:"tls" doc:"TLS for the gRPC listener (the HTTP path uses http.tls_*)."`
	MaxMessageBytes ByteSize  `yaml:"max_message_bytes" doc:"Largest OTLP request, decompressed."`
	StreamFields    []string  `yaml:"stream_fields" doc:"Resource attributes that become stream labels; a name ending in * matches every attribute with that prefix (k8s.*)."`
	AllowPlaintext  bool      `yaml:"allow_plaintext" doc:"Keep OTLP over HTTP (/v1/logs) when tls.client_ca_file requires client certificates on gRPC but the HTTP listener does not require them (http.tls_client_ca_file). Off by default: /v1/logs would take from anyone what gRPC takes only from holders of a certificate."`
	MaxConnections  int       `yaml:"max_connections" doc:"Most open connections of the gRPC listener. At the bound a new connection displaces the one that sent nothing for the longest. 0 gives it its share of the file descriptors (see docs/security.md), -1 means no bound."`
}

// LokiConfig configures the Loki push API receiver.
type LokiConfig struct {
	Enabled         bool     `yaml:"enabled" doc:"Accept the Loki push API at /loki/api/v1/push on the HTTP listener (Promtail, Grafana Alloy)."`
	MaxMessageBytes ByteSize `yaml:"max_message_bytes" doc:"Largest push request, decompressed."`
}

func defaultReceivers(c *Config) {
	c.Forward = ForwardConfig{
		Enabled:         true,
		Addr:            "127.0.0.1:24224",
		MaxMessageBytes: 16 << 20,
		ReadTimeout:     Duration(5 * time.Minute),
	}
	c.Syslog = SyslogConfig{
		Enabled:         true,
		UDPAddr:         "127.0.0.1:5514",
		TCPAddr:         "127.0.0.1:5514",
		TLSAddr:         "127.0.0.1:6514",
		MaxMessageBytes: 64 << 10,
		ReadTimeout:     Duration(5 * time.Minute),
		StreamFields:    []string{"hostname", "app_name"},
	}
	c.OTLP = OTLPConfig{
		Enabled:         true,
		GRPCAddr:        "127.0.0.1:4317",
		MaxMessageBytes: 16 << 20,
		StreamFields:    []string{"service.name", "service.namespace", "host.name", "k8s.namespace.name", "k8s.pod.name", "k8s.container.name"},
	}
	c.Loki = LokiConfig{Enabled: true, MaxMessageBytes: 16 << 20}
}

func (c *Config) validateReceivers() []error {
	var errs []error
	errs = append(errs, c.Forward.TLS.validate("forward")...)
	errs = append(errs, c.Syslog.TLS.validate("syslog")...)
	errs = append(errs, c.OTLP.TLS.validate("otlp")...)
	if c.Forward.Enabled && c.Forward.Addr == "" {
		errs = append(errs, fmt.Errorf("forward.addr must be set when forward.enabled"))
	}
	for _, u := range c.Forward.Users {
		if err := tenant.Check(u.Tenant); err != nil {
			errs = append(errs, fmt.Errorf("forward.users[%q].tenant: %w", u.Username, err))
		}
	}
	if len(c.Forward.Users) > 0 && c.Forward.SharedKey == "" && c.Forward.SharedKeyFile == "" {
		errs = append(errs, fmt.Errorf("forward.users need forward.shared_key"))
	}
	for _, s := range []struct {
		name string
		v    ByteSize
	}{{"forward.max_message_bytes", c.Forward.MaxMessageBytes}, {"syslog.max_message_bytes", c.Syslog.MaxMessageBytes},
		{"otlp.max_message_bytes", c.OTLP.MaxMessageBytes}, {"loki.max_message_bytes", c.Loki.MaxMessageBytes}} {
		if s.v <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive", s.name))
		}
	}
	return errs
}
