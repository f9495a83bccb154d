package autoscale

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestControllerReady: /readyz is 503 with the reason until a step reads
// the group, then 200, and stays so when a later read fails.
func TestControllerReady(t *testing.T) {
	var groupErr error
	p := DefaultParams()
	c := &Controller{
		Policy:    &Sluice{P: p},
		Estimator: NewEstimator(p, 30*time.Second),
		Group: func(context.Context) (GroupReading, error) {
			return GroupReading{Produced: 100, Lag: 10}, groupErr
		},
		DryRun: true,
	}
	ready := func() (int, string) {
		w := httptest.NewRecorder()
		c.ServeReady(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		return w.Code, w.Body.String()
	}
	if code, body := ready(); code != http.StatusServiceUnavailable || !strings.Contains(body, "no step has run yet") {
		t.Fatalf("before a step: %d %q", code, body)
	}
	groupErr = errors.New("brokers unreachable")
	now := time.Unix(1e9, 0)
	if _, err := c.Step(context.Background(), now); err == nil {
		t.Fatal("a failed read: no error")
	}
	if code, body := ready(); code != http.StatusServiceUnavailable || !strings.Contains(body, "read the consumer group: brokers unreachable") {
		t.Fatalf("after a failed read: %d %q", code, body)
	}
	groupErr = nil
	if _, err := c.Step(context.Background(), now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if code, body := ready(); code != http.StatusOK || body != "ready\n" {
		t.Fatalf("after a read: %d %q", code, body)
	}
	groupErr = errors.New("brokers unreachable")
	_, _ = c.Step(context.Background(), now.Add(2*time.Second))
	if code, _ := ready(); code != http.StatusOK {
		t.Fatalf("a later failed read made it unready: %d", code)
	}
}
