package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"time"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/ingest/forward"
)

func init() {
	registerReceiver("forward", func(env receiverEnv) (receiverParts, error) {
		c := env.cfg.Forward
		if !c.Enabled {
			return receiverParts{}, nil
		}
		tlsCfg, err := forwardTLS(c.TLS)
		if err != nil {
			return receiverParts{}, err
		}
		users := map[string]string{}
		for _, u := range c.Users {
			users[u.Username] = u.Password
		}
		srv, err := forward.Listen(forward.Config{
			Addr:               c.Addr,
			TLS:                tlsCfg,
			SharedKey:          c.SharedKey,
			Users:              users,
			MaxMessageBytes:    int(c.MaxMessageBytes),
			MaxConnections:     c.MaxConnections,
			ReadTimeout:        time.Duration(c.ReadTimeout),
			MaxFieldsPerRecord: env.cfg.Ingest.MaxFieldsPerRecord,
			ShutdownGrace:      time.Duration(env.cfg.HTTP.ShutdownTimeout),
		}, env.sink, env.metrics, env.registry, env.log.With("component", "forward"))
		if err != nil {
			return receiverParts{}, err
		}
		return receiverParts{listeners: []listener{srv}}, nil
	})
}

// forwardTLS loads the forward listener's certificate; nil when TLS is off.
func forwardTLS(c config.TLSConfig) (*tls.Config, error) {
	if !c.Enabled() {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("load forward.tls certificate: %w", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if c.ClientCAFile != "" {
		pem, err := os.ReadFile(c.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("read forward.tls.client_ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("forward.tls.client_ca_file %s holds no PEM certificate", c.ClientCAFile)
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}
