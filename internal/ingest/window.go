package ingest

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/promreg"
	"github.com/sluice-log/sluice/internal/record"
)

// WindowConfig says which record times the receivers accept: from a
// tenant's retention ago up to MaxFuture ahead of the time of arrival.
type WindowConfig struct {
	// Retention is how far back a record's time may be, for tenants
	// without their own entry in TenantRetention; 0 means no bound
	// (the store keeps everything).
	Retention time.Duration
	// TenantRetention overrides Retention per tenant; an entry of 0 means
	// Retention, as the store's per-tenant retention does.
	TenantRetention map[string]time.Duration
	// MaxFuture is how far ahead of the time of arrival a record's time
	// may be; 0 means no bound.
	MaxFuture time.Duration
	// Stamp gives a record outside the window its time of arrival instead
	// of rejecting it.
	Stamp bool
	// Cardinality, when not nil, bounds each tenant's streams and field
	// names too: Check is every receiver's one admission check of a
	// record's content beyond its protocol.
	Cardinality *Cardinality
}

// TimeWindow checks record times against a WindowConfig. Every receiver
// calls Check on each record where it rejects records for their content,
// so that a record outside the window is refused on its own, in that
// receiver's per-record error shape and under the rejected-records
// metric's reasons too_old and too_far_in_future.
//
// Without a window, one request with records on thousands of days made a
// flush write thousands of parts; a time the store would drop at its next
// retention round, or one years ahead (a clock or parsing error), is
// better refused at the door, as VictoriaLogs does. A nil *TimeWindow
// accepts every time.
type TimeWindow struct {
	cfg     WindowConfig
	stamped *prometheus.CounterVec
}

// NewTimeWindow returns the window of cfg. Records it stamps are counted
// in sluice_ingest_stamped_records_total, registered with reg when not nil.
func NewTimeWindow(cfg WindowConfig, reg prometheus.Registerer) *TimeWindow {
	w := &TimeWindow{cfg: cfg, stamped: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sluice_ingest_stamped_records_total",
		Help: "Records whose time was outside the accepted window and that were given their time of arrival instead (ingest.out_of_window: stamp), by reason.",
	}, []string{"reason"})}
	if reg != nil {
		w.stamped = promreg.Register(reg, w.stamped)
	}
	return w
}

// Check returns an error wrapping ErrTooOld or ErrTooFarInFuture when r's
// time is outside the window as of now, the record's time of arrival; with
// WindowConfig.Stamp it sets r's time to now instead and returns nil.
//
// With WindowConfig.Cardinality it then checks the record's stream and
// field names against its tenant's bounds (Cardinality.Check), once its
// time is accepted.
func (w *TimeWindow) Check(r *record.Record, now time.Time) error {
	if w == nil {
		return nil
	}
	err := w.check(r, now)
	if err != nil && w.cfg.Stamp {
		r.Time = now.UnixNano()
		w.stamped.WithLabelValues(RejectReason(err)).Inc()
		err = nil
	}
	if err != nil {
		return err
	}
	return w.cfg.Cardinality.Check(r, now)
}

func (w *TimeWindow) check(r *record.Record, now time.Time) error {
	if w.cfg.MaxFuture > 0 {
		if limit := now.Add(w.cfg.MaxFuture); r.Time > limit.UnixNano() {
			return fmt.Errorf("%w: %s is after %s (the time of arrival plus ingest.max_future, %s)",
				ErrTooFarInFuture, formatTime(r.Time), limit.UTC().Format(time.RFC3339), formatDuration(w.cfg.MaxFuture))
		}
	}
	retention := w.cfg.Retention
	if d := w.cfg.TenantRetention[r.Tenant]; d > 0 {
		retention = d
	}
	if retention > 0 {
		if limit := now.Add(-retention); r.Time < limit.UnixNano() {
			return fmt.Errorf("%w: %s is before %s (the time of arrival minus the retention, %s)",
				ErrTooOld, formatTime(r.Time), limit.UTC().Format(time.RFC3339), formatDuration(retention))
		}
	}
	return nil
}

func formatTime(ns int64) string {
	return time.Unix(0, ns).UTC().Format(time.RFC3339Nano)
}

// formatDuration writes whole days as the configuration does ("30d").
func formatDuration(d time.Duration) string {
	const day = 24 * time.Hour
	if d >= day && d%day == 0 {
		return fmt.Sprintf("%dd", d/day)
	}
	return d.String()
}
