package tlsreload

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/testutil/testcert"
)

// TestReload serves TLS, swaps the certificate files, and checks that the
// next handshake presents the new certificate; then that a broken file
// keeps the new one in force.
func TestReload(t *testing.T) {
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	write := func(c testcert.Cert) {
		t.Helper()
		cf, kf := c.WriteFiles(t, t.TempDir())
		for from, to := range map[string]string{cf: certPath, kf: keyPath} {
			b, _ := os.ReadFile(from)
			if err := os.WriteFile(to, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	first, second := testcert.New(t), testcert.New(t)
	write(first)
	cfg, err := Config(Files{Cert: certPath, Key: keyPath}, 0, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	served := func() *x509.Certificate {
		t.Helper()
		c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0]
	}
	if !served().Equal(first.Leaf()) {
		t.Fatal("first certificate not served")
	}
	// TLS 1.2 at least.
	if c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11}); err == nil {
		c.Close()
		t.Error("a TLS 1.1 client was served")
	}
	write(second)
	future := time.Now().Add(time.Minute)
	_ = os.Chtimes(certPath, future, future)
	if !served().Equal(second.Leaf()) {
		t.Fatal("new certificate not served after the files changed")
	}
	if err := os.WriteFile(certPath, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	later := future.Add(time.Minute)
	_ = os.Chtimes(certPath, later, later)
	if !served().Equal(second.Leaf()) {
		t.Fatal("a broken file replaced the certificate in force")
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	if _, err := Config(Files{Cert: filepath.Join(dir, "none"), Key: keyPath}, 0, quiet); err == nil {
		t.Error("Config with a missing file succeeded")
	}
	write(second)
	if _, err := Config(Files{Cert: certPath, Key: keyPath, ClientCA: keyPath}, 0, quiet); err == nil {
		t.Error("Config with a CA bundle without certificates succeeded")
	}
}

// TestClient: a client configuration presents its certificate to a server
// requiring one, signed by the CA it was given, and presents the renewed
// certificate once its files changed; a missing CA file is an error.
func TestClient(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	ca := testcert.NewCA(t)
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, ca.PEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	srvCert, srvKey := ca.Issue(t, "127.0.0.1").WriteFiles(t, t.TempDir())
	srv, err := Config(Files{Cert: srvCert, Key: srvKey, ClientCA: caFile}, 0, quiet)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", srv)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peers := make(chan string, 1)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			tc := c.(*tls.Conn)
			if tc.Handshake() == nil && len(tc.ConnectionState().PeerCertificates) > 0 {
				peers <- tc.ConnectionState().PeerCertificates[0].Subject.CommonName
			} else {
				peers <- ""
			}
			c.Close()
		}
	}()
	certPath, keyPath := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	write := func(c testcert.Cert) {
		t.Helper()
		cf, kf := c.WriteFiles(t, t.TempDir())
		for from, to := range map[string]string{cf: certPath, kf: keyPath} {
			b, _ := os.ReadFile(from)
			if err := os.WriteFile(to, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	dial := func(cfg *tls.Config) string {
		t.Helper()
		c, err := tls.Dial("tcp", ln.Addr().String(), cfg)
		if err == nil {
			// TLS 1.3: the server's verdict on the client certificate
			// comes with the first read.
			_, _ = c.Read(make([]byte, 1))
			c.Close()
		}
		return <-peers
	}
	write(ca.Issue(t, "querier-1"))
	client, err := Client(ClientFiles{CA: caFile, Cert: certPath, Key: keyPath}, 0, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if got := dial(client); got != "querier-1" {
		t.Fatalf("server saw client certificate %q, want querier-1", got)
	}
	write(ca.Issue(t, "querier-2"))
	future := time.Now().Add(time.Minute)
	_ = os.Chtimes(certPath, future, future)
	if got := dial(client); got != "querier-2" {
		t.Errorf("after renewal the server saw %q, want querier-2", got)
	}
	anon, err := Client(ClientFiles{CA: caFile}, 0, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if got := dial(anon); got != "" {
		t.Errorf("a client without a certificate was accepted as %q", got)
	}
	if _, err := Client(ClientFiles{CA: filepath.Join(dir, "none")}, 0, quiet); err == nil {
		t.Error("Client with a missing CA file succeeded")
	}
}
