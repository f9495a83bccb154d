package main

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/tlsreload"
)

// httpTLS is the HTTP listener's TLS configuration, nil without
// http.tls_cert_file. With http.tls_client_ca_file a client certificate is
// verified when one is given (one that does not verify fails the
// handshake), and requireClientCert refuses the requests that came
// without one, but the probes'. The files are re-read when they change
// (auth.reload_interval).
func httpTLS(cfg config.Config, log *slog.Logger) (*tls.Config, error) {
	c := cfg.HTTP
	if c.TLSCertFile == "" {
		return nil, nil
	}
	tc, err := tlsreload.Config(tlsreload.Files{Cert: c.TLSCertFile, Key: c.TLSKeyFile, ClientCA: c.TLSClientCAFile, OptionalClientCert: true},
		time.Duration(cfg.Auth.ReloadInterval), log.With("component", "http-tls"))
	if err != nil {
		return nil, fmt.Errorf("http.tls: %w", err)
	}
	return tc, nil
}

// requireClientCert answers 403 to every request without a verified
// client certificate except GET /healthz and /readyz, which the kubelet's
// probes, unable to present one, ask for and which say nothing but "ok".
func requireClientCert(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
			next.ServeHTTP(w, r)
			return
		}
		if r.Method == http.MethodGet && (r.URL.Path == "/healthz" || r.URL.Path == "/readyz") {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"error":"a client certificate signed by the CA of http.tls_client_ca_file is required"}` + "\n"))
	})
}
