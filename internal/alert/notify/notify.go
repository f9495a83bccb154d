// Package notify sends alerts to where people and other systems receive
// them. A notifier kind is one file that registers itself (Register in
// init) under the alerts.notifiers[].type it serves; the core knows none
// of them. It owns the wire formats (the Alertmanager webhook payload
// version 4 and its API v2, Slack's incoming webhooks, email, PagerDuty
// Events v2), not when or how often to send: that is internal/alert's
// dispatcher, which also retries.
package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/sluice-log/sluice/internal/config"
)

// Alert is one alert in Alertmanager's model.
type Alert struct {
	Status       string            `json:"status"` // firing or resolved
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// Firing reports whether the alert fires.
func (a Alert) Firing() bool { return a.Status == StatusFiring }

// Alert statuses.
const (
	StatusFiring   = "firing"
	StatusResolved = "resolved"
)

// Message is one notification: the alerts of one group (a rule's or a
// flow's) for one notifier.
type Message struct {
	Receiver    string
	GroupKey    string
	GroupLabels map[string]string
	ExternalURL string
	Alerts      []Alert
}

// Status is firing when any of the message's alerts fires.
func (m *Message) Status() string {
	for _, a := range m.Alerts {
		if a.Firing() {
			return StatusFiring
		}
	}
	return StatusResolved
}

// CommonLabels are the labels every alert of m has with the same value;
// CommonAnnotations likewise.
func (m *Message) CommonLabels() map[string]string {
	return common(m.Alerts, func(a Alert) map[string]string { return a.Labels })
}

func (m *Message) CommonAnnotations() map[string]string {
	return common(m.Alerts, func(a Alert) map[string]string { return a.Annotations })
}

func common(alerts []Alert, of func(Alert) map[string]string) map[string]string {
	out := map[string]string{}
	if len(alerts) == 0 {
		return out
	}
	for k, v := range of(alerts[0]) {
		out[k] = v
	}
	for _, a := range alerts[1:] {
		m := of(a)
		for k, v := range out {
			if m[k] != v {
				delete(out, k)
			}
		}
	}
	return out
}

// Fingerprint identifies an alert by its labels, as Alertmanager's
// fingerprint does: FNV-1a 64 over the sorted label pairs, in hex.
func Fingerprint(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := fnv.New64a()
	for _, k := range keys {
		h.Write([]byte(k))
		h.Write([]byte{0xff})
		h.Write([]byte(labels[k]))
		h.Write([]byte{0xff})
	}
	return fmt.Sprintf("%016x", h.Sum64())
}

// Notifier sends one message; an error means it was not delivered and
// the dispatcher will try again.
type Notifier interface {
	Notify(ctx context.Context, m *Message) error
}

// Resender is implemented by notifiers whose receiver forgets a firing
// alert that is not sent again (Alertmanager resolves it after its
// resolve_timeout): the dispatcher re-sends their firing groups this often.
type Resender interface {
	ResendEvery() time.Duration
}

// Factory builds a notifier from its configuration entry.
type Factory func(cfg config.NotifierConfig) (Notifier, error)

var registry = map[string]Factory{}

// Register makes a notifier type available; called from init.
func Register(typ string, f Factory) {
	if _, dup := registry[typ]; dup {
		panic("notify: type " + typ + " registered twice")
	}
	registry[typ] = f
}

// Types lists the registered notifier types.
func Types() []string {
	out := make([]string, 0, len(registry))
	for t := range registry {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// New builds the notifier an alerts.notifiers entry describes.
func New(cfg config.NotifierConfig) (Notifier, error) {
	f, ok := registry[cfg.Type]
	if !ok {
		return nil, fmt.Errorf("notifier %s: unknown type %q (known: %s)", cfg.Name, cfg.Type, strings.Join(Types(), ", "))
	}
	n, err := f(cfg)
	if err != nil {
		return nil, fmt.Errorf("notifier %s (%s): %w", cfg.Name, cfg.Type, err)
	}
	return n, nil
}

// tlsConfig is the client TLS of a notifier: its CA bundle, or the system's.
func tlsConfig(cfg config.NotifierConfig, serverName string) (*tls.Config, error) {
	tc := &tls.Config{ServerName: serverName, InsecureSkipVerify: cfg.TLSInsecure, MinVersion: tls.VersionTLS12} //nolint:gosec // an explicit, documented test option
	if cfg.TLSCAFile != "" {
		pem, err := os.ReadFile(cfg.TLSCAFile)
		if err != nil {
			return nil, fmt.Errorf("read tls_ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls_ca_file %s holds no PEM certificate", cfg.TLSCAFile)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}

// httpClient is the client of an HTTP notifier. Deadlines come from the
// dispatcher's context.
func httpClient(cfg config.NotifierConfig) (*http.Client, error) {
	tc, err := tlsConfig(cfg, "")
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tc
	return &http.Client{Transport: tr}, nil
}

// postJSON posts body as JSON and fails on any answer but 2xx, quoting
// the start of what the server said.
func postJSON(ctx context.Context, c *http.Client, url string, headers map[string]string, body any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "sluice-alerts")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("post %s: %w", redact(url), err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("post %s: %s: %s", redact(url), resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}

// redact keeps a URL's scheme and host for errors: the path of a Slack
// or similar webhook is its secret.
func redact(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return "(url)"
	}
	host, _, _ := strings.Cut(rest, "/")
	return scheme + "://" + host + "/…"
}

// summary is a one-line description of an alert for text notifiers.
func summary(a Alert) string {
	if s := a.Annotations["summary"]; s != "" {
		return s
	}
	keys := make([]string, 0, len(a.Labels))
	for k := range a.Labels {
		if k != "alertname" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + a.Labels[k]
	}
	return a.Labels["alertname"] + " {" + strings.Join(parts, ", ") + "}"
}
