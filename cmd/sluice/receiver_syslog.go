package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/sluice-log/sluice/internal/auth"
	"github.com/sluice-log/sluice/internal/ingest/syslog"
)

func init() {
	registerReceiver("syslog", func(env receiverEnv) (receiverParts, error) {
		c := env.cfg.Syslog
		if !c.Enabled {
			return receiverParts{}, nil
		}
		cfg := syslog.Config{
			MaxMessageBytes: int(c.MaxMessageBytes),
			MaxConnections:  c.MaxConnections,
			ReadTimeout:     time.Duration(c.ReadTimeout),
			StreamFields:    c.StreamFields,
			Window:          env.window,
			InFlight:        env.inFlight,
			// With auth on, only mutual TLS is served, and the client
			// certificate names the tenant.
			TenantFromCert: env.guard != nil,
		}
		if env.guard != nil {
			cfg.Refused = func(remote, cn string, err error) {
				env.guard.Audit(auth.Event{Action: "refused", Key: "cert:" + cn, Remote: remote, Method: "syslog", Path: "tls", Status: http.StatusForbidden, Reason: err.Error()})
			}
		}
		m := syslog.NewMetrics(env.registry, env.metrics)
		log := env.log.With("component", "syslog")
		var parts receiverParts
		fail := func(err error) (receiverParts, error) {
			for _, l := range parts.listeners {
				_ = l.(interface{ Close() error }).Close()
			}
			return receiverParts{}, err
		}
		if !c.PlaintextAllowed() && (c.UDPAddr != "" || c.TCPAddr != "") {
			// A client certificate required on TLS means nothing while the
			// same records are taken from anyone in plaintext.
			log.Warn("syslog plaintext listeners are off: syslog.tls.client_ca_file requires client certificates (syslog.allow_plaintext keeps them)",
				"udp_addr", c.UDPAddr, "tcp_addr", c.TCPAddr)
			c.UDPAddr, c.TCPAddr = "", ""
		}
		if c.UDPAddr != "" {
			pc, err := net.ListenPacket("udp", c.UDPAddr)
			if err != nil {
				return fail(fmt.Errorf("listen on syslog.udp_addr %s: %w", c.UDPAddr, err))
			}
			parts.listeners = append(parts.listeners, syslog.NewPacketServer(pc, env.sink, cfg, m, log))
		}
		if c.TCPAddr != "" {
			ln, err := net.Listen("tcp", c.TCPAddr)
			if err != nil {
				return fail(fmt.Errorf("listen on syslog.tcp_addr %s: %w", c.TCPAddr, err))
			}
			parts.listeners = append(parts.listeners, syslog.NewStreamServer(ln, nil, env.sink, cfg, m, log))
		}
		if c.TLS.Enabled() {
			if c.TLSAddr == "" {
				return fail(errors.New("syslog.tls is set but syslog.tls_addr is empty"))
			}
			tcfg, err := serverTLS(env, "syslog", c.TLS)
			if err != nil {
				return fail(err)
			}
			ln, err := net.Listen("tcp", c.TLSAddr)
			if err != nil {
				return fail(fmt.Errorf("listen on syslog.tls_addr %s: %w", c.TLSAddr, err))
			}
			parts.listeners = append(parts.listeners, syslog.NewStreamServer(ln, tcfg, env.sink, cfg, m, log))
		}
		return parts, nil
	})
}
