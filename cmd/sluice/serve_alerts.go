package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/alert"
	"github.com/sluice-log/sluice/internal/api"
	"github.com/sluice-log/sluice/internal/auth"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/logmetrics"
	"github.com/sluice-log/sluice/internal/metricpush"
	"github.com/sluice-log/sluice/internal/query"
	"github.com/sluice-log/sluice/internal/savedsearch"
	"github.com/sluice-log/sluice/internal/tenant"
)

// extras are what alerts, metrics from logs, the Graphite push and saved
// searches add to a role: ingest observers, routes and background loops.
type extras struct {
	manager    *alert.Manager
	logMetrics *logmetrics.Set
	pusher     *metricpush.Pusher
	saved      *savedsearch.Store
	log        *slog.Logger

	stop func()
}

// extrasFor builds them for a role: ingest observers where records are
// received (all, gateway), rules, flows and saved searches where queries
// are answered (engine non-nil: all, querier, store indexer). A querier's
// flows read their records through the engine (polled).
func extrasFor(cfg config.Config, engine api.Engine, polled bool, reg prometheus.Registerer, log *slog.Logger) (*extras, error) {
	parse := func(s string) (*query.Query, error) {
		return query.ParseWith(s, query.ParseOptions{MaxRegexSize: cfg.Query.MaxRegexSize})
	}
	x := &extras{log: log}
	if cfg.Role == config.RoleAll || cfg.Role == config.RoleGateway {
		lm, err := logmetrics.New(cfg.Metrics, parse, reg)
		if err != nil {
			return nil, err
		}
		x.logMetrics = lm
	}
	if cfg.Graphite.Addr != "" {
		x.pusher = metricpush.New(metricpush.Options{Addr: cfg.Graphite.Addr, Prefix: cfg.Graphite.Prefix,
			Interval: time.Duration(cfg.Graphite.Interval), Format: cfg.Graphite.Format,
			Gatherer: reg.(prometheus.Gatherer), Log: log.With("component", "graphite")}, reg)
	}
	if engine == nil {
		return x, nil
	}
	ss, err := savedsearch.Open(filepath.Join(cfg.DataDir, "saved_searches.json"))
	if err != nil {
		return nil, err
	}
	x.saved = ss
	m, err := alert.New(alert.Options{
		Config: cfg.Alerts, Dir: filepath.Join(cfg.DataDir, "alerts"), Parse: parse, Polled: polled,
		PageLimit: cfg.Query.MaxLimit, MaxGroups: cfg.Query.MaxGroups, Registry: reg, Log: log.With("component", "alerts"),
		Query: func(ctx context.Context, q *query.Query, opts query.Options, emit func(query.Row) error) (string, error) {
			opts.MaxScannedRecords, opts.MaxScannedBytes = cfg.Query.MaxScannedRecords, int64(cfg.Query.MaxScannedBytes)
			if cfg.Querier.APIKey != "" {
				// A querier's indexers check the key its rules and flows
				// query with, as they check a caller's.
				ctx = auth.WithCredential(ctx, "Bearer "+cfg.Querier.APIKey)
			}
			p, err := engine.Query(ctx, q, opts, emit)
			if p != nil {
				return p.Reason, err
			}
			return "", err
		},
	})
	if err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	x.manager = m
	return x, nil
}

// observers are the ingest observers: metrics from logs, and flows fed
// by ingest.
func (x *extras) observers() []ingest.Observer {
	var obs []ingest.Observer
	if x.logMetrics != nil && !x.logMetrics.Empty() {
		obs = append(obs, x.logMetrics)
	}
	if x.manager != nil && x.manager.HasFlows() {
		obs = append(obs, x.manager)
	}
	return obs
}

// routes are the alerts' and saved searches' endpoints.
func (x *extras) routes() map[string]http.Handler {
	out := map[string]http.Handler{}
	if x.manager != nil {
		for p, h := range x.manager.Routes(tenant.Of) {
			out[p] = h
		}
	}
	if x.saved != nil {
		for p, h := range x.saved.Routes(tenant.Of) {
			out[p] = h
		}
	}
	return out
}

// start runs the background loops until stop, which waits for them (the
// alert state is saved by then).
func (x *extras) start() {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	if x.manager != nil {
		wg.Add(1)
		go func() { defer wg.Done(); _ = x.manager.Run(ctx) }()
	}
	if x.pusher != nil {
		wg.Add(1)
		go func() { defer wg.Done(); _ = x.pusher.Run(ctx) }()
	}
	x.stop = func() { cancel(); wg.Wait() }
}
