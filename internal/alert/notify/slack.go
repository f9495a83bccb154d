package notify

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/sluice-log/sluice/internal/config"
)

func init() { Register("slack", newSlack) }

// slack posts to a Slack-compatible incoming webhook (Slack, Mattermost,
// Rocket.Chat take the same {"text": …} body).
type slack struct {
	cfg    config.NotifierConfig
	client *http.Client
}

func newSlack(cfg config.NotifierConfig) (Notifier, error) {
	c, err := httpClient(cfg)
	if err != nil {
		return nil, err
	}
	return &slack{cfg: cfg, client: c}, nil
}

// SlackText is the message text a group of alerts becomes.
func SlackText(m *Message) string {
	var b strings.Builder
	firing := 0
	for _, a := range m.Alerts {
		if a.Firing() {
			firing++
		}
	}
	name := m.GroupLabels["alertname"]
	fmt.Fprintf(&b, "*[%s] %s* (%d firing, %d resolved)\n", strings.ToUpper(m.Status()), name, firing, len(m.Alerts)-firing)
	for _, a := range m.Alerts {
		fmt.Fprintf(&b, "• %s: %s\n", a.Status, summary(a))
	}
	return b.String()
}

func (s *slack) Notify(ctx context.Context, m *Message) error {
	return postJSON(ctx, s.client, s.cfg.URL, nil, map[string]string{"text": SlackText(m)})
}
