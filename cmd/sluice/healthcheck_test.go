package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHealthcheckConfig checks where the probe takes the address and TLS
// from: --config's http section, overridden by --addr and --tls.
func TestHealthcheckConfig(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ready " + r.URL.Path + "\n")) })
	secure := httptest.NewTLSServer(ok)
	defer secure.Close()
	plain := httptest.NewServer(ok)
	defer plain.Close()
	_, port, _ := strings.Cut(secure.Listener.Addr().String(), ":")
	cfg := filepath.Join(t.TempDir(), "sluice.yaml")
	// A wildcard listen address, as in the container image's configuration.
	yaml := "http:\n  addr: \":" + port + "\"\n  tls_cert_file: /etc/tls/tls.crt\n  tls_key_file: /etc/tls/tls.key\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args     []string
		code     int
		inStdout string
		inStderr string
	}{
		{args: []string{"--config", cfg}, code: 0, inStdout: "https://127.0.0.1:" + port + "/readyz: 200 ready /readyz"},
		{args: []string{"--config", cfg, "--endpoint", "healthz"}, code: 0, inStdout: "200 ready /healthz"},
		{args: []string{"--config", cfg, "--tls=false"}, code: 1, inStderr: ": 400: "},
		{args: []string{"--config", cfg, "--addr", plain.Listener.Addr().String(), "--tls=false"}, code: 0, inStdout: "http://"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args[2:], " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"healthcheck"}, tt.args...), &stdout, &stderr)
			if code != tt.code || !strings.Contains(stdout.String(), tt.inStdout) || !strings.Contains(stderr.String(), tt.inStderr) {
				t.Errorf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tt.code, stdout.String(), stderr.String())
			}
		})
	}
}
