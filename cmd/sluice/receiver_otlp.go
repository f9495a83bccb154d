package main

import (
	"net/http"

	"github.com/sluice-log/sluice/internal/auth"
	"github.com/sluice-log/sluice/internal/connlimit"
	"github.com/sluice-log/sluice/internal/ingest/otlp"
)

func init() {
	registerReceiver("otlp", func(env receiverEnv) (receiverParts, error) {
		c := env.cfg.OTLP
		if !c.Enabled {
			return receiverParts{}, nil
		}
		cfg := otlp.Config{
			StreamFields:       c.StreamFields,
			MaxFieldsPerRecord: env.cfg.Ingest.MaxFieldsPerRecord,
			MaxMessageBytes:    int64(c.MaxMessageBytes),
			Window:             env.window,
			InFlight:           env.inFlight,
			MaxConnections:     c.MaxConnections,
			ConnMetrics:        connlimit.NewMetrics(env.registry),
		}
		if g := env.guard; g != nil {
			cfg.Authorize = func(authz, asked, remote string) (string, int, error) {
				p, t, code, err := g.Decide(authz, asked, auth.RoleIngest)
				if err != nil {
					g.Refused(remote, "gRPC", "/opentelemetry.proto.collector.logs.v1.LogsService/Export", p, asked, code, err)
				}
				return t, code, err
			}
		}
		log := env.log.With("component", "otlp")
		parts := receiverParts{routes: map[string]http.Handler{}}
		if env.cfg.OTLPOverHTTP() {
			parts.routes["POST /v1/logs"] = otlp.NewHandler(env.sink, cfg, env.metrics, log)
		} else {
			// gRPC's client certificate would mean nothing while the same
			// exports are taken from anyone over HTTP.
			log.Warn("OTLP over HTTP (/v1/logs) is off: otlp.tls.client_ca_file requires client certificates on gRPC and the HTTP listener does not (set http.tls_client_ca_file, or otlp.allow_plaintext to keep it)")
		}
		if c.GRPCAddr == "" {
			return parts, nil
		}
		tlsCfg, err := serverTLS(env, "otlp", c.TLS)
		if err != nil {
			return receiverParts{}, err
		}
		srv, err := otlp.ListenGRPC(c.GRPCAddr, tlsCfg, env.sink, cfg, env.metrics, log)
		if err != nil {
			return receiverParts{}, err
		}
		parts.listeners = append(parts.listeners, srv)
		return parts, nil
	})
}
