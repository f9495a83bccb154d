package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/process"
)

// processingSink puts the pipeline of pipeline.file in front of next, the
// sink the receivers write to, and keeps it current while ctx lasts. With
// no file it returns next.
func processingSink(ctx context.Context, cfg config.Config, next ingest.Sink, reg prometheus.Registerer, log *slog.Logger) (ingest.Sink, error) {
	if cfg.Pipeline.File == "" {
		return next, nil
	}
	s := process.NewSink(next, timeWindow(cfg, reg), reg)
	w, err := process.Watch(cfg.Pipeline.File, time.Duration(cfg.Pipeline.ReloadInterval), s,
		process.Options{Metrics: process.NewMetrics(reg)}, log.With("component", "processing"))
	if err != nil {
		return nil, err
	}
	go w.Run(ctx)
	return s, nil
}
