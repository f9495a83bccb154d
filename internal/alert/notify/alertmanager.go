package notify

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/sluice-log/sluice/internal/config"
)

func init() { Register("alertmanager", newAlertmanager) }

// alertmanager posts to Prometheus Alertmanager's API v2, as Prometheus
// does, so that teams keep their routing, grouping and inhibition there.
type alertmanager struct {
	cfg    config.NotifierConfig
	url    string
	client *http.Client
}

// amResend is how often firing alerts are sent again, and amEndsAfter how
// far ahead their endsAt lies, as Prometheus does (resend every minute,
// endsAt four resends ahead): Alertmanager resolves an alert that stops
// being sent once its endsAt passes.
const (
	amResend    = time.Minute
	amEndsAfter = 4 * amResend
)

func newAlertmanager(cfg config.NotifierConfig) (Notifier, error) {
	c, err := httpClient(cfg)
	if err != nil {
		return nil, err
	}
	return &alertmanager{cfg: cfg, url: strings.TrimSuffix(cfg.URL, "/") + "/api/v2/alerts", client: c}, nil
}

func (a *alertmanager) ResendEvery() time.Duration { return amResend }

// postableAlert is the API v2's PostableAlert.
type postableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

func (a *alertmanager) Notify(ctx context.Context, m *Message) error {
	now := time.Now()
	out := make([]postableAlert, len(m.Alerts))
	for i, al := range m.Alerts {
		end := al.EndsAt
		if al.Firing() {
			end = now.Add(amEndsAfter)
		}
		out[i] = postableAlert{Labels: al.Labels, Annotations: al.Annotations, StartsAt: al.StartsAt, EndsAt: end, GeneratorURL: al.GeneratorURL}
	}
	return postJSON(ctx, a.client, a.url, a.cfg.Headers, out)
}
