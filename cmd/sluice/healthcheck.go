package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/healthcheck"
)

func runHealthcheck(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("healthcheck", "healthcheck [--config FILE] [--addr HOST:PORT] [--tls] [--endpoint readyz|healthz] [--timeout D]", `
Asks a local server whether it is ready (GET /readyz) or alive (GET
/healthz) and exits 0 if it answered 200, or 1 with a one-line reason. It is
the probe of the container image, which has no shell, wget or curl:

  HEALTHCHECK CMD ["sluice", "healthcheck"]

The address and TLS come from --config's http section when given (a
wildcard host such as :9280 means loopback); --addr and --tls override it.
With TLS the certificate is not verified: the probe asks its own server,
whose certificate names a service, not 127.0.0.1.`, stderr)
	cfgPath := fs.String("config", "", "YAML configuration `file` whose http.addr and http.tls_cert_file say where the server listens")
	addr := fs.String("addr", "", "the server's HTTP listen `address` (default "+config.DefaultHTTPAddr+", or http.addr of --config)")
	useTLS := fs.Bool("tls", false, "ask over HTTPS (default: HTTPS when --config sets http.tls_cert_file)")
	endpoint := fs.String("endpoint", "readyz", "`endpoint` to ask: readyz (ready to serve) or healthz (alive)")
	timeout := fs.Duration("timeout", 5*time.Second, "give up after this `duration`")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	opts := healthcheck.Options{Addr: config.DefaultHTTPAddr, Endpoint: *endpoint}
	if *cfgPath != "" {
		cfg, err := config.Load(*cfgPath)
		if err != nil {
			return err
		}
		opts.Addr, opts.TLS = cfg.HTTP.Addr, cfg.HTTP.TLSCertFile != ""
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "addr":
			opts.Addr = *addr
		case "tls":
			opts.TLS = *useTLS
		}
	})
	if _, err := opts.URL(); err != nil {
		return usageError{err}
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	answer, err := healthcheck.Check(ctx, opts)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, answer)
	return nil
}
