package notify

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/config"
)

// TestWireFormats checks each HTTP notifier's body as its receiver reads
// it. Alertmanager's (webhook and API v2) are also checked against a real
// Alertmanager in cmd/sluice's TestE2EAlertNotifiers; Slack and PagerDuty
// cannot run here, so this test's server stands in for them and only
// decodes what they document.
func TestWireFormats(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	msg := &Message{Receiver: "ops", GroupKey: `{}:{alertname="payments-errors"}`, GroupLabels: map[string]string{"alertname": "payments-errors"},
		Alerts: []Alert{
			{Status: StatusFiring, Labels: map[string]string{"alertname": "payments-errors", "service": "payments", "severity": "page"}, StartsAt: start, Fingerprint: "f1"},
			{Status: StatusResolved, Labels: map[string]string{"alertname": "payments-errors", "service": "cart", "severity": "page"}, StartsAt: start, EndsAt: start.Add(time.Minute), Fingerprint: "f2"},
		}}
	tests := []struct {
		typ   string
		extra func(*config.NotifierConfig)
		check func(t *testing.T, path string, bodies []string)
	}{
		{"webhook", nil, func(t *testing.T, path string, bodies []string) {
			var p WebhookPayload
			mustDecode(t, bodies, 1, &p)
			if p.Version != "4" || p.Status != StatusFiring || p.Receiver != "ops" || len(p.Alerts) != 2 ||
				p.CommonLabels["severity"] != "page" || p.CommonLabels["service"] != "" || p.Alerts[1].Status != StatusResolved || p.Alerts[0].Fingerprint != "f1" {
				t.Fatalf("payload %+v", p)
			}
		}},
		{"alertmanager", nil, func(t *testing.T, path string, bodies []string) {
			var p []postableAlert
			mustDecode(t, bodies, 1, &p)
			if path != "/api/v2/alerts" || len(p) != 2 || !p[0].EndsAt.After(time.Now()) || !p[1].EndsAt.Equal(start.Add(time.Minute)) {
				t.Fatalf("%s %+v", path, p)
			}
		}},
		{"slack", nil, func(t *testing.T, path string, bodies []string) {
			var p struct{ Text string }
			mustDecode(t, bodies, 1, &p)
			if !strings.HasPrefix(p.Text, "*[FIRING] payments-errors* (1 firing, 1 resolved)") || !strings.Contains(p.Text, "service=cart") {
				t.Fatalf("text %q", p.Text)
			}
		}},
		{"pagerduty", func(c *config.NotifierConfig) { c.RoutingKey = "rk" }, func(t *testing.T, path string, bodies []string) {
			if len(bodies) != 2 {
				t.Fatalf("%d events, want one per alert", len(bodies))
			}
			var trig, res PagerDutyEvent
			mustDecode(t, bodies[:1], 1, &trig)
			mustDecode(t, bodies[1:], 1, &res)
			if trig.EventAction != "trigger" || trig.RoutingKey != "rk" || trig.DedupKey != "f1" || trig.Payload.Severity != "critical" ||
				res.EventAction != "resolve" || res.DedupKey != "f2" || res.Payload != nil {
				t.Fatalf("events %+v %+v", trig, res)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			var bodies []string
			var path string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				bodies, path = append(bodies, string(b)), r.URL.Path
			}))
			defer srv.Close()
			cfg := config.NotifierConfig{Name: "ops", Type: tt.typ, URL: srv.URL}
			if tt.extra != nil {
				tt.extra(&cfg)
			}
			n, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := n.Notify(context.Background(), msg); err != nil {
				t.Fatal(err)
			}
			tt.check(t, path, bodies)
		})
	}
}

func mustDecode(t *testing.T, bodies []string, n int, v any) {
	t.Helper()
	if len(bodies) != n {
		t.Fatalf("%d requests, want %d", len(bodies), n)
	}
	if err := json.Unmarshal([]byte(bodies[0]), v); err != nil {
		t.Fatalf("%v: %s", err, bodies[0])
	}
}

// TestPostFailure: a non-2xx answer is an error that quotes the server
// and keeps the URL's secret path out.
func TestPostFailure(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no such hook", http.StatusNotFound)
	}))
	defer srv.Close()
	n, err := New(config.NotifierConfig{Name: "s", Type: "slack", URL: srv.URL + "/services/T000/SECRET"})
	if err != nil {
		t.Fatal(err)
	}
	err = n.Notify(context.Background(), &Message{Alerts: []Alert{{Status: StatusFiring}}})
	if err == nil || !strings.Contains(err.Error(), "no such hook") || strings.Contains(err.Error(), "SECRET") {
		t.Fatalf("error %v", err)
	}
}

func TestFingerprintStable(t *testing.T) {
	a := Fingerprint(map[string]string{"alertname": "x", "order_id": "o-1"})
	b := Fingerprint(map[string]string{"order_id": "o-1", "alertname": "x"})
	c := Fingerprint(map[string]string{"alertname": "x", "order_id": "o-2"})
	if a != b || a == c || len(a) != 16 {
		t.Fatalf("%s %s %s", a, b, c)
	}
}
