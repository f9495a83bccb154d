// Package tlsreload builds TLS configurations whose certificate, key and
// client CA bundle are re-read when their files change, so that a renewed
// certificate (cert-manager, a rotated Secret) takes effect without a
// restart: servers' (Config) and clients' presenting a certificate
// (Client). It must not know listeners or protocols.
package tlsreload

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// Files name a listener's PEM files; ClientCA empty asks no client
// certificate.
type Files struct {
	Cert, Key, ClientCA string
	// OptionalClientCert verifies a client certificate when one is given
	// instead of requiring one (the HTTP listener, whose probes cannot
	// present one, refuses the rest itself).
	OptionalClientCert bool
}

// Config returns a server configuration (TLS 1.2 at least) that looks at
// the files' modification times at most once per interval, at a handshake,
// and reloads them when one changed. Files that fail to load then keep the
// previous certificates in force and are logged; files that fail at the
// start are an error.
func Config(f Files, interval time.Duration, log *slog.Logger) (*tls.Config, error) {
	r, err := newReloader(f, interval, log)
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return r.current(), nil
		},
	}, nil
}

// ClientFiles name a client's PEM files: the CA bundle that signed the
// servers' certificates (empty: the system's roots) and the certificate and
// key it presents to a server that asks for one (empty: none).
type ClientFiles struct {
	CA, Cert, Key string
}

// Client returns a client configuration (TLS 1.2 at least) whose
// certificate is re-read as Config's is, at a handshake at most once per
// interval; the CA bundle is read once.
func Client(f ClientFiles, interval time.Duration, log *slog.Logger) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if f.CA != "" {
		pool, err := loadPool(f.CA)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	if f.Cert == "" && f.Key == "" {
		return cfg, nil
	}
	r, err := newReloader(Files{Cert: f.Cert, Key: f.Key}, interval, log)
	if err != nil {
		return nil, err
	}
	cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		return &r.current().Certificates[0], nil
	}
	return cfg, nil
}

type reloader struct {
	files    Files
	interval time.Duration
	log      *slog.Logger

	mu      sync.Mutex
	cur     *tls.Config
	checked time.Time
	stamps  [3]time.Time
}

func newReloader(f Files, interval time.Duration, log *slog.Logger) (*reloader, error) {
	r := &reloader{files: f, interval: interval, log: log}
	cur, err := r.load()
	if err != nil {
		return nil, err
	}
	r.cur, r.checked, r.stamps = cur, time.Now(), r.stampNow()
	return r, nil
}

func loadPool(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read CA bundle: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA bundle %s holds no PEM certificate", path)
	}
	return pool, nil
}

func (r *reloader) load() (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(r.files.Cert, r.files.Key)
	if err != nil {
		return nil, fmt.Errorf("load certificate %s: %w", r.files.Cert, err)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if r.files.ClientCA == "" {
		return cfg, nil
	}
	pool, err := loadPool(r.files.ClientCA)
	if err != nil {
		return nil, fmt.Errorf("client %w", err)
	}
	cfg.ClientCAs = pool
	cfg.ClientAuth = tls.RequireAndVerifyClientCert
	if r.files.OptionalClientCert {
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
	}
	return cfg, nil
}

func (r *reloader) stampNow() [3]time.Time {
	var s [3]time.Time
	for i, p := range []string{r.files.Cert, r.files.Key, r.files.ClientCA} {
		if p == "" {
			continue
		}
		if fi, err := os.Stat(p); err == nil {
			s[i] = fi.ModTime()
		}
	}
	return s
}

func (r *reloader) current() *tls.Config {
	r.mu.Lock()
	defer r.mu.Unlock()
	if time.Since(r.checked) < r.interval {
		return r.cur
	}
	r.checked = time.Now()
	st := r.stampNow()
	if st == r.stamps {
		return r.cur
	}
	cfg, err := r.load()
	if err != nil {
		r.log.Error("TLS files changed but did not load; the previous certificates stay in force", "cert", r.files.Cert, "err", err)
		return r.cur
	}
	r.stamps, r.cur = st, cfg
	r.log.Info("TLS certificates re-read", "cert", r.files.Cert, "client_ca", r.files.ClientCA)
	return r.cur
}
