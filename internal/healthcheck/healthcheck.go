package healthcheck

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Endpoints a probe may ask, by the name the command line uses.
var Endpoints = map[string]string{
	"readyz":  "/readyz",
	"healthz": "/healthz",
}

// Options say which server to ask and how.
type Options struct {
	// Addr is the server's listen address (host:port) as configured; an
	// empty or wildcard host (":9280", "0.0.0.0:9280", "[::]:9280") means
	// this machine's loopback.
	Addr string
	// TLS asks over HTTPS without verifying the certificate: the probe
	// asks its own pod's or container's server, whose certificate names a
	// service rather than 127.0.0.1 (Kubernetes' HTTPS probes do the same).
	TLS bool
	// Endpoint is a key of Endpoints.
	Endpoint string
}

// URL is the address the probe asks.
func (o Options) URL() (string, error) {
	path, ok := Endpoints[o.Endpoint]
	if !ok {
		return "", fmt.Errorf("unknown endpoint %q: want readyz or healthz", o.Endpoint)
	}
	host, port, err := net.SplitHostPort(o.Addr)
	if err != nil {
		return "", fmt.Errorf("address %q: %w", o.Addr, err)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	scheme := "http"
	if o.TLS {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port) + path, nil
}

// maxReason bounds how much of the server's answer a failure repeats.
const maxReason = 200

// Check asks the server once. It returns the server's answer (its first
// line) when it is 200, and otherwise an error whose text is one line
// saying what failed: the server could not be reached, or what it answered.
func Check(ctx context.Context, o Options) (string, error) {
	u, err := o.URL()
	if err != nil {
		return "", err
	}
	tr := &http.Transport{
		DisableKeepAlives: true,
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: o.TLS}, // see Options.TLS
	}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("GET %s: %w", u, err)
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return "", fmt.Errorf("GET %s: no answer in time", u)
		}
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err // it repeats the method and URL
		}
		return "", fmt.Errorf("GET %s: %s", u, oneLine(err.Error()))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	reason := oneLine(string(body))
	if resp.StatusCode != http.StatusOK {
		if reason == "" {
			reason = http.StatusText(resp.StatusCode)
		}
		return "", fmt.Errorf("GET %s: %d: %s", u, resp.StatusCode, reason)
	}
	return fmt.Sprintf("GET %s: %d %s", u, resp.StatusCode, reason), nil
}

// oneLine keeps the first non-empty line of s, cut to maxReason bytes at a
// rune boundary, so that a health log (Docker keeps the probe's output)
// stays one readable line.
func oneLine(s string) string {
	for line := range strings.Lines(s) {
		if line = strings.TrimSpace(line); line != "" {
			s = line
			break
		}
	}
	s = strings.TrimSpace(s)
	if len(s) <= maxReason {
		return s
	}
	cut := maxReason
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
