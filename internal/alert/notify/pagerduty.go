package notify

import (
	"cmp"
	"context"
	"errors"
	"net/http"

	"github.com/sluice-log/sluice/internal/config"
)

func init() { Register("pagerduty", newPagerDuty) }

// pagerduty sends one PagerDuty Events API v2 event per alert: trigger
// while it fires, resolve once it is resolved, with the alert's
// fingerprint as dedup_key so that PagerDuty ties the two together.
type pagerduty struct {
	cfg    config.NotifierConfig
	url    string
	client *http.Client
}

const pagerDutyURL = "https://events.pagerduty.com/v2/enqueue"

func newPagerDuty(cfg config.NotifierConfig) (Notifier, error) {
	c, err := httpClient(cfg)
	if err != nil {
		return nil, err
	}
	return &pagerduty{cfg: cfg, url: cmp.Or(cfg.URL, pagerDutyURL), client: c}, nil
}

// PagerDutyEvent is an Events API v2 event.
type PagerDutyEvent struct {
	RoutingKey  string           `json:"routing_key"`
	EventAction string           `json:"event_action"` // trigger or resolve
	DedupKey    string           `json:"dedup_key"`
	Payload     *PagerDutyDetail `json:"payload,omitempty"`
}

// PagerDutyDetail is an event's payload (trigger only).
type PagerDutyDetail struct {
	Summary       string            `json:"summary"`
	Source        string            `json:"source"`
	Severity      string            `json:"severity"` // critical, error, warning or info
	Timestamp     string            `json:"timestamp,omitempty"`
	CustomDetails map[string]string `json:"custom_details,omitempty"`
}

func severity(s string) string {
	switch s {
	case "critical", "error", "warning", "info":
		return s
	case "page":
		return "critical"
	}
	return "error"
}

func (p *pagerduty) Notify(ctx context.Context, m *Message) error {
	var errs []error
	for _, a := range m.Alerts {
		ev := PagerDutyEvent{RoutingKey: p.cfg.RoutingKey, EventAction: "resolve", DedupKey: a.Fingerprint}
		if a.Firing() {
			ev.EventAction = "trigger"
			ev.Payload = &PagerDutyDetail{Summary: summary(a), Source: "sluice", Severity: severity(a.Labels["severity"]),
				Timestamp: a.StartsAt.UTC().Format("2006-01-02T15:04:05.000Z"), CustomDetails: a.Labels}
		}
		if err := postJSON(ctx, p.client, p.url, nil, ev); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
