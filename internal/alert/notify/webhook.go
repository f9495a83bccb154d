package notify

import (
	"context"
	"net/http"

	"github.com/sluice-log/sluice/internal/config"
)

func init() { Register("webhook", newWebhook) }

// webhook posts Alertmanager's webhook payload (version 4), so that what
// accepts Alertmanager's webhooks accepts Sluice's.
type webhook struct {
	cfg    config.NotifierConfig
	client *http.Client
}

func newWebhook(cfg config.NotifierConfig) (Notifier, error) {
	c, err := httpClient(cfg)
	if err != nil {
		return nil, err
	}
	return &webhook{cfg: cfg, client: c}, nil
}

// WebhookPayload is the body of Alertmanager's webhook_config, version 4.
type WebhookPayload struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []Alert           `json:"alerts"`
}

// Payload is m as Alertmanager's webhook sends it.
func Payload(m *Message) WebhookPayload {
	alerts := make([]Alert, len(m.Alerts))
	for i, a := range m.Alerts {
		if a.Labels == nil {
			a.Labels = map[string]string{}
		}
		if a.Annotations == nil {
			a.Annotations = map[string]string{}
		}
		alerts[i] = a
	}
	gl := m.GroupLabels
	if gl == nil {
		gl = map[string]string{}
	}
	return WebhookPayload{
		Version: "4", GroupKey: m.GroupKey, Status: m.Status(), Receiver: m.Receiver,
		GroupLabels: gl, CommonLabels: m.CommonLabels(), CommonAnnotations: m.CommonAnnotations(),
		ExternalURL: m.ExternalURL, Alerts: alerts,
	}
}

func (w *webhook) Notify(ctx context.Context, m *Message) error {
	return postJSON(ctx, w.client, w.cfg.URL, w.cfg.Headers, Payload(m))
}
