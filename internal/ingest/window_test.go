package ingest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/sluice-log/sluice/internal/record"
)

func TestTimeWindow(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	cfg := WindowConfig{
		Retention:       30 * day,
		TenantRetention: map[string]time.Duration{"short": 7 * day, "default": 0},
		MaxFuture:       2 * day,
	}
	for _, tt := range []struct {
		name   string
		cfg    *WindowConfig // nil: cfg above
		tenant string
		at     time.Time
		want   error  // nil: accepted
		text   string // in the error
	}{
		{name: "now", at: now},
		{name: "edge of the past", at: now.Add(-30 * day)},
		{name: "too old", at: now.Add(-30*day - time.Nanosecond), want: ErrTooOld,
			text: "2026-02-08T11:59:59.999999999Z is before 2026-02-08T12:00:00Z (the time of arrival minus the retention, 30d)"},
		{name: "edge of the future", at: now.Add(2 * day)},
		{name: "too far ahead", at: now.Add(2*day + time.Second), want: ErrTooFarInFuture,
			text: "2026-03-12T12:00:01Z is after 2026-03-12T12:00:00Z (the time of arrival plus ingest.max_future, 2d)"},
		{name: "year 1970", at: time.Unix(0, 0), want: ErrTooOld},
		{name: "tenant's own retention", tenant: "short", at: now.Add(-8 * day), want: ErrTooOld, text: "retention, 7d"},
		{name: "tenant's own retention keeps", tenant: "short", at: now.Add(-6 * day)},
		{name: "tenant entry of 0 takes the store's", tenant: "default", at: now.Add(-29 * day)},
		{name: "no retention: no bound behind", cfg: &WindowConfig{MaxFuture: day}, at: time.Unix(0, 0)},
		{name: "no bound ahead", cfg: &WindowConfig{Retention: day}, at: now.Add(100 * 365 * day)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := cfg
			if tt.cfg != nil {
				c = *tt.cfg
			}
			w := NewTimeWindow(c, nil)
			r := record.Record{Tenant: tt.tenant, Time: tt.at.UnixNano()}
			err := w.Check(&r, now)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("Check(%s) = %v, want %v", tt.at, err, tt.want)
			}
			if err != nil && !strings.Contains(err.Error(), tt.text) {
				t.Errorf("error %q does not say %q", err, tt.text)
			}
			if r.Time != tt.at.UnixNano() {
				t.Errorf("time changed to %d without stamping", r.Time)
			}
		})
	}
}

func TestTimeWindowStamp(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	reg := prometheus.NewRegistry()
	w := NewTimeWindow(WindowConfig{Retention: time.Hour, MaxFuture: time.Hour, Stamp: true}, reg)
	for _, at := range []time.Time{now.Add(-2 * time.Hour), now.Add(2 * time.Hour), now.Add(3 * time.Hour)} {
		r := record.Record{Time: at.UnixNano()}
		if err := w.Check(&r, now); err != nil {
			t.Fatalf("Check with stamping: %v", err)
		}
		if r.Time != now.UnixNano() {
			t.Errorf("record of %s stamped %d, want the time of arrival", at, r.Time)
		}
	}
	inside := record.Record{Time: now.Add(-time.Minute).UnixNano()}
	if err := w.Check(&inside, now); err != nil || inside.Time != now.Add(-time.Minute).UnixNano() {
		t.Errorf("a record inside the window was changed: %v, %d", err, inside.Time)
	}
	if got := gathered(t, reg)["sluice_ingest_stamped_records_total"]; got != 3 {
		t.Errorf("stamped records counted %v, want 3", got)
	}
	if got := w.stamped.WithLabelValues("too_far_in_future"); testValue(got) != 2 {
		t.Errorf("stamped too_far_in_future = %v, want 2", testValue(got))
	}
}

func testValue(c prometheus.Counter) float64 {
	var m dto.Metric
	_ = c.Write(&m)
	return m.GetCounter().GetValue()
}

func TestNilTimeWindowAcceptsAll(t *testing.T) {
	var w *TimeWindow
	r := record.Record{Time: -1 << 62}
	if err := w.Check(&r, time.Now()); err != nil {
		t.Fatal(err)
	}
}
