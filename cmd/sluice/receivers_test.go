package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/testutil/testcert"
)

type discardSink struct{}

func (discardSink) Ingest(context.Context, []record.Record) error { return nil }

// TestClientCertsTurnPlaintextOff: when a protocol's TLS requires client
// certificates, its plaintext ways in are off unless allow_plaintext keeps
// them: syslog's UDP and TCP listeners, and OTLP over HTTP while the HTTP
// listener does not require certificates itself.
func TestClientCertsTurnPlaintextOff(t *testing.T) {
	cert := testcert.New(t)
	certFile, keyFile := cert.WriteFiles(t, t.TempDir())
	withCA := config.TLSConfig{CertFile: certFile, KeyFile: keyFile, ClientCAFile: certFile}
	tests := []struct {
		name                   string
		edit                   func(c *config.Config)
		wantUDP, wantTCP, otlp bool
	}{
		{name: "no client certificates", edit: func(c *config.Config) {}, wantUDP: true, wantTCP: true, otlp: true},
		{name: "client certificates required", edit: func(c *config.Config) {
			c.Syslog.TLS, c.OTLP.TLS = withCA, withCA
		}},
		{name: "allowed explicitly", edit: func(c *config.Config) {
			c.Syslog.TLS, c.OTLP.TLS = withCA, withCA
			c.Syslog.AllowPlaintext, c.OTLP.AllowPlaintext = true, true
		}, wantUDP: true, wantTCP: true, otlp: true},
		{name: "HTTP requires certificates too", edit: func(c *config.Config) {
			c.OTLP.TLS = withCA
			c.HTTP.TLSCertFile, c.HTTP.TLSKeyFile, c.HTTP.TLSClientCAFile = certFile, keyFile, certFile
		}, wantUDP: true, wantTCP: true, otlp: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Forward.Enabled = false
			cfg.Syslog.UDPAddr, cfg.Syslog.TCPAddr, cfg.Syslog.TLSAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
			cfg.OTLP.GRPCAddr = "127.0.0.1:0"
			tc.edit(&cfg)
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			reg := prometheus.NewRegistry()
			routes, listeners, err := buildReceivers(receiverEnv{cfg: cfg, sink: discardSink{}, metrics: ingest.NewMetrics(reg),
				registry: reg, log: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			var udp, tcp bool
			for _, l := range listeners {
				udp = udp || strings.HasPrefix(l.Addr(), "udp://")
				tcp = tcp || strings.HasPrefix(l.Addr(), "tcp://")
				_ = l.(interface{ Close() error }).Close()
			}
			_, otlp := routes["POST /v1/logs"]
			if udp != tc.wantUDP || tcp != tc.wantTCP || otlp != tc.otlp {
				t.Errorf("syslog UDP %v, TCP %v, OTLP over HTTP %v; want %v, %v, %v", udp, tcp, otlp, tc.wantUDP, tc.wantTCP, tc.otlp)
			}
		})
	}
}
