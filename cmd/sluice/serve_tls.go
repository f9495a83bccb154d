package main

import (
	"crypto/tls"
	"net/http"

	"github.com/sluice-log/sluice/internal/config"
)

// httpTLS is the HTTP listener's TLS configuration, nil without
// http.tls_cert_file. With http.tls_client_ca_file a client certificate is
// verified when one is given (one that does not verify fails the
// handshake), and requireClientCert refuses the requests that came
// without one, but the probes'.
func httpTLS(c config.HTTPConfig) (*tls.Config, error) {
	cfg, err := serverTLS("http", config.TLSConfig{CertFile: c.TLSCertFile, KeyFile: c.TLSKeyFile, ClientCAFile: c.TLSClientCAFile})
	if err != nil || cfg == nil || cfg.ClientCAs == nil {
		return cfg, err
	}
	cfg.ClientAuth = tls.VerifyClientCertIfGiven
	return cfg, nil
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
