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
