package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/testutil/testcert"
)

// TestE2EClientCertificates: with client certificates required, nothing
// is taken from a client without one. The HTTP listener
// (http.tls_client_ca_file) answers 403 to every request without a
// certificate, OTLP over HTTP and ingest included, but the probes;
// syslog's plaintext TCP and UDP listeners are off because its TLS
// listener requires client certificates; the CLI presents its certificate
// with --tls-cert (here SLUICE_TLS_CERT).
func TestE2EClientCertificates(t *testing.T) {
	needBinary(t)
	t.Parallel()
	cert := testcert.New(t)
	certFile, keyFile := cert.WriteFiles(t, t.TempDir())
	tcpAddr, udpAddr, tlsAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	files := fmt.Sprintf("cert_file: %s, key_file: %s, client_ca_file: %s", certFile, keyFile, certFile)
	s := launchServer(t, nil, t.TempDir(), fmt.Sprintf(`
http: {tls_cert_file: %s, tls_key_file: %s, tls_client_ca_file: %s}
forward: {enabled: false}
syslog: {tcp_addr: %s, udp_addr: %s, tls_addr: %s, tls: {%s}}
otlp: {grpc_addr: %s, tls: {%s}}
`, certFile, keyFile, certFile, tcpAddr, udpAddr, tlsAddr, files, freeAddr(t), files))
	s.url = "https://" + strings.TrimPrefix(s.url, "http://")
	defer s.stop()
	anon := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: cert.Pool}}}
	authed := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: cert.Pool, Certificates: []tls.Certificate{cert.TLS}}}}
	for deadline := time.Now().Add(60 * time.Second); ; {
		resp, err := anon.Get(s.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break // the probes need no certificate
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready: %v\n%s", err, s.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}

	do := func(c *http.Client, method, path, body string) int {
		t.Helper()
		req, _ := http.NewRequest(method, s.url+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, r := range []struct{ method, path, body string }{
		{"POST", "/insert/jsonline", `{"_msg":"anonymous"}`},
		{"POST", "/v1/logs", `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"anonymous"}}]}]}]}`},
		{"GET", "/api/v1/query?query=*", ""},
		{"GET", "/metrics", ""},
	} {
		if code := do(anon, r.method, r.path, r.body); code != http.StatusForbidden {
			t.Errorf("%s %s without a client certificate: %d, want 403", r.method, r.path, code)
		}
	}
	if code := do(authed, "POST", "/insert/jsonline", `{"_msg":"with a certificate"}`); code != 200 {
		t.Fatalf("ingest with a client certificate: %d", code)
	}

	if c, err := net.DialTimeout("tcp", tcpAddr, 2*time.Second); err == nil {
		c.Close()
		t.Error("the plaintext syslog TCP listener accepts connections")
	}
	if c, err := net.Dial("udp", udpAddr); err == nil {
		fmt.Fprint(c, "<13>1 2026-01-02T03:04:05Z host anon - - - plaintext over udp")
		c.Close()
	}
	tc, err := tls.Dial("tcp", tlsAddr, &tls.Config{RootCAs: cert.Pool, Certificates: []tls.Certificate{cert.TLS}})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(tc, "<13>1 2026-01-02T03:04:05Z host authed - - - over tls with a certificate\n")
	tc.Close()

	s.cliEnv = []string{"SLUICE_TLS_CERT=" + certFile, "SLUICE_TLS_KEY=" + keyFile, "SLUICE_TLS_CA=" + certFile}
	for deadline := time.Now().Add(10 * time.Second); s.count(`"over tls with a certificate"`) != 1; {
		if time.Now().After(deadline) {
			t.Fatal("the TLS syslog message was not stored")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := s.count("*"); n != 2 {
		t.Errorf("stored %d records, want 2 (one over HTTPS, one over syslog TLS)", n)
	}
	if !strings.Contains(s.logs.String(), "syslog plaintext listeners are off") {
		t.Error("no warning that the plaintext syslog listeners are off")
	}
}
