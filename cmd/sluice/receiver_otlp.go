package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"

	"github.com/sluice-log/sluice/internal/config"
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
		}
		log := env.log.With("component", "otlp")
		parts := receiverParts{routes: map[string]http.Handler{
			"POST /v1/logs": otlp.NewHandler(env.sink, cfg, env.metrics, log),
		}}
		if c.GRPCAddr == "" {
			return parts, nil
		}
		tlsCfg, err := otlpTLS(c.TLS)
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

// otlpTLS loads the gRPC listener's certificate; nil when TLS is off.
func otlpTLS(c config.TLSConfig) (*tls.Config, error) {
	if !c.Enabled() {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("load otlp.tls certificate: %w", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if c.ClientCAFile != "" {
		pem, err := os.ReadFile(c.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("read otlp.tls.client_ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("otlp.tls.client_ca_file %s holds no PEM certificate", c.ClientCAFile)
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}
