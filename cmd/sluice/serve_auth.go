package main

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/audit"
	"github.com/sluice-log/sluice/internal/auth"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/quota"
)

// security is what every role shares of authentication, the audit trail
// and the tenants' quotas.
type security struct {
	guard  *auth.Guard // nil: authentication off
	audit  *audit.Log
	quotas *quota.Quotas
	stop   context.CancelFunc
}

// newSecurity opens the keys file (auth.enabled), starts watching it, and
// builds the audit trail over sink (nil for roles that store nothing:
// their events go to the log only) and the quotas.
func newSecurity(cfg config.Config, sink ingest.Sink, reg prometheus.Registerer, log *slog.Logger) (*security, error) {
	ctx, stop := context.WithCancel(context.Background())
	s := &security{stop: stop, quotas: quota.New(quotaLimits(cfg), reg)}
	s.quotas.Hold, s.quotas.MaxHold = time.Duration(cfg.Quotas.IngestHold), time.Duration(cfg.Quotas.IngestMaxHold)
	s.quotas.MaxHeld = cfg.Quotas.IngestMaxHeld
	s.audit = audit.New(sink, reg, log.With("component", "audit"))
	go s.audit.Run()
	if !cfg.Auth.Enabled {
		return s, nil
	}
	keys, err := auth.Open(cfg.Auth.KeysFile, log.With("component", "auth"))
	if err != nil {
		s.close()
		return nil, err
	}
	keys.OnChange = func(created, revoked []string) {
		for _, name := range created {
			s.audit.Audit(auth.Event{Time: time.Now(), Action: "key_created", Key: name, Reason: "seen in auth.keys_file"})
		}
		for _, name := range revoked {
			s.audit.Audit(auth.Event{Time: time.Now(), Action: "key_revoked", Key: name, Reason: "revoked in auth.keys_file"})
		}
	}
	reloads := prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "sluice_auth_keys_reloads_total", Help: "Re-readings of auth.keys_file that took effect."},
		func() float64 { return float64(keys.Reloads()) })
	failures := prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "sluice_auth_keys_reload_failures_total", Help: "Re-readings of auth.keys_file that failed (the keys read before stay in force)."},
		func() float64 { return float64(keys.Failures()) })
	reg.MustRegister(reloads, failures)
	go keys.Watch(ctx, time.Duration(cfg.Auth.ReloadInterval))
	s.guard = auth.NewGuard(keys, s.audit, log.With("component", "auth"))
	return s, nil
}

// close stops watching the keys and writes the audit events still queued
// (before the sink closes).
func (s *security) close() {
	s.stop()
	s.audit.Close()
}

// ingestSink is what receivers write to: sink, charged to each tenant's
// ingest quota.
func (s *security) ingestSink(sink ingest.Sink) ingest.Sink {
	return quota.Sink{Next: sink, Quotas: s.quotas}
}

// quotaLimits reads each tenant's quotas from quotas.tenants (the default
// tenant is named default there, as in keys) or quotas.default.
func quotaLimits(cfg config.Config) func(string) quota.Limits {
	return func(tenant string) quota.Limits {
		name := tenant
		if name == "" {
			name = auth.DefaultTenant
		}
		q := cfg.Quotas.Of(name)
		return quota.Limits{IngestBytesPerSecond: int64(q.IngestBytesPerSecond), IngestBurstBytes: int64(q.IngestBurstBytes),
			QueryMaxConcurrent: q.QueryMaxConcurrent, QueryMaxScanned: q.QueryMaxScanned}
	}
}

// probeHandler is what http.metrics_addr serves: metrics, health and
// readiness, without a key.
func probeHandler(main http.Handler, metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", main)
	mux.Handle("GET /readyz", main)
	mux.Handle("GET /metrics", metrics)
	return mux
}
