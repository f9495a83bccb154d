package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/sluice-log/sluice/internal/api"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/querier"
	"github.com/sluice-log/sluice/internal/tlsreload"
	"github.com/sluice-log/sluice/internal/ui"
)

// serveQuerier runs the querier role: the query API, the UI and live
// tail over every store indexer, polled in the background. It stores
// nothing and has no data directory: with kafka.brokers set, its audit
// events (refused keys, admin actions) go through Kafka into the audit
// tenant of the indexers, as a gateway's do, where an admin key queries
// them through any querier; without, they are in its log only.
func serveQuerier(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	reg := newRegistry()
	var auditSink ingest.Sink
	if len(cfg.Kafka.Brokers) > 0 {
		prod, err := newProducer(cfg, reg, log)
		if err != nil {
			return err
		}
		defer func() {
			fctx, cancel := context.WithTimeout(context.Background(), time.Duration(cfg.HTTP.ShutdownTimeout))
			defer cancel()
			if err := prod.Close(fctx); err != nil {
				log.Warn("kafka producer of the audit trail did not close cleanly", "err", err)
			}
		}()
		auditSink = prod
	}
	sec, err := newSecurity(cfg, auditSink, reg, log)
	if err != nil {
		return err
	}
	defer sec.close()
	var statusAuth string
	if cfg.Querier.APIKey != "" {
		statusAuth = "Bearer " + cfg.Querier.APIKey
	}
	tlsCfg, err := tlsreload.Client(tlsreload.ClientFiles{CA: cfg.Querier.TLSCAFile, Cert: cfg.Querier.TLSCertFile, Key: cfg.Querier.TLSKeyFile},
		time.Duration(cfg.Auth.ReloadInterval), log.With("component", "querier"))
	if err != nil {
		return fmt.Errorf("querier TLS: %w", err)
	}
	q := querier.New(querier.Options{
		TLS:                 tlsCfg,
		StatusAuthorization: statusAuth,
		Indexers:            cfg.Querier.Indexers,
		PollInterval:        time.Duration(cfg.Querier.PollInterval),
		MaxResponseBytes:    int64(cfg.Querier.MaxResponseBytes),
		MaxCopyLag:          cfg.Querier.MaxCopyLag,
		Log:                 log.With("component", "querier"),
	})
	// Rules and flows over every indexer: flows read each new slice of
	// time through the querier (polled), as it receives nothing.
	x, err := extrasFor(cfg, q, true, reg, log)
	if err != nil {
		return err
	}
	handler := api.New(api.Config{
		Backend:  querier.Backend{Q: q},
		Engine:   q,
		Tail:     q.TailHandler(),
		Querier:  func() any { return q.Indexers() },
		Limits:   queryLimits(cfg),
		Gatherer: reg,
		Registry: reg,
		Version:  version,
		Log:      log,
		UI:       ui.New(),
		Guard:    sec.guard,
		Quotas:   sec.quotas,
		Routes:   x.routes(),
	})
	resolveConnLimits(&cfg, 0, false, log)
	run := httpRun{cfg: cfg, log: log, reg: reg, handler: handler, background: q.Run, metrics: metricsHandler(reg), guard: sec.guard}
	x.start()
	serveErr := run.serve(ctx, "indexers", len(cfg.Querier.Indexers))
	x.stop()
	log.Info("shut down cleanly")
	return serveErr
}
