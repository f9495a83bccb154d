package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/sluice-log/sluice/internal/api"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/pipeline"
	"github.com/sluice-log/sluice/internal/store"
	"github.com/sluice-log/sluice/internal/wal"
)

func runServe(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "serve [--config FILE] [--data-dir DIR] [--http-addr HOST:PORT]", `
Runs the all-in-one server: HTTP receivers, the write-ahead log, the
embedded store and the query API, in one process with one data directory.
Without --config it runs on the defaults ('sluice config defaults' prints
them); flags override the file.

Endpoints (all on --http-addr):
  POST /insert/jsonline            JSON lines, one object per line
  POST /_bulk, /{index}/_bulk      the Elasticsearch bulk API
  POST /api/v1/query               query (NDJSON answer)
  GET  /api/v1/hits                hit counts per time bucket
  GET  /api/v1/field_names         fields with their top values
  GET  /api/v1/tail                live tail (NDJSON or server-sent events)
  GET  /metrics, /healthz, /readyz

SIGTERM or SIGINT stops taking requests, lets running ones finish, flushes
everything to parts and exits 0.`, stderr)
	cfgPath := fs.String("config", "", "YAML configuration `file` (default: built-in defaults)")
	dataDir := fs.String("data-dir", "", "data `directory` (overrides data_dir; default ./sluice-data)")
	httpAddr := fs.String("http-addr", "", "HTTP listen `address` (overrides http.addr; default "+config.DefaultHTTPAddr+")")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	cfg := config.Default()
	if *cfgPath != "" {
		if cfg, err = config.Load(*cfgPath); err != nil {
			return err
		}
	}
	if *dataDir != "" {
		cfg.DataDir = *dataDir
	}
	if *httpAddr != "" {
		cfg.HTTP.Addr = *httpAddr
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := newLogger(cfg.Log, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	return serve(ctx, cfg, log)
}

func newLogger(c config.LogConfig, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// serve runs the server until ctx is cancelled, then shuts down gracefully.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	unlock, err := lockDataDir(cfg.DataDir)
	if err != nil {
		return err
	}
	defer unlock()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	syncInterval, _ := cfg.WAL.SyncInterval()
	w, err := wal.Open(filepath.Join(cfg.DataDir, "wal"), wal.Options{
		SegmentSize:  int64(cfg.WAL.SegmentSize),
		MaxSize:      int64(cfg.WAL.MaxSize),
		SyncInterval: syncInterval,
	}, log.With("component", "wal"))
	if err != nil {
		return fmt.Errorf("open write-ahead log: %w", err)
	}
	st, err := store.Open(filepath.Join(cfg.DataDir, "store"), store.Options{
		BlockRecords:         cfg.Store.BlockRecords,
		MaxPartsPerPartition: cfg.Store.MaxPartsPerPartition,
	}, log.With("component", "store"))
	if err != nil {
		_ = w.Close()
		return fmt.Errorf("open store: %w", err)
	}
	p, err := pipeline.Open(w, st, pipeline.Options{
		FlushInterval: time.Duration(cfg.Store.FlushInterval),
		FlushBytes:    int64(cfg.Store.FlushBytes),
		MergeInterval: time.Duration(cfg.Store.MergeInterval),
		Retention:     time.Duration(cfg.Store.Retention),
		WALMaxBytes:   int64(cfg.WAL.MaxSize),
	}, pipeline.NewMetrics(reg), log.With("component", "pipeline"))
	if err != nil {
		_ = w.Close()
		_ = st.Close()
		return err
	}

	routes, listeners, err := buildReceivers(receiverEnv{
		cfg: cfg, sink: p, metrics: ingest.NewMetrics(reg), registry: reg, log: log,
	})
	if err != nil {
		_ = p.Close(context.Background())
		return err
	}
	handler := api.New(api.Config{
		Backend: p,
		Limits: api.QueryLimits{
			DefaultLimit:  cfg.Query.DefaultLimit,
			MaxLimit:      cfg.Query.MaxLimit,
			MaxGroups:     cfg.Query.MaxGroups,
			Timeout:       time.Duration(cfg.Query.Timeout),
			MaxConcurrent: cfg.Query.MaxConcurrent,
		},
		Ingest:   routes,
		Gatherer: reg,
		Registry: reg,
		Version:  version,
		Log:      log,
	})

	ln, err := net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		_ = p.Close(context.Background())
		return fmt.Errorf("listen on %s: %w (is another server running? choose another --http-addr)", cfg.HTTP.Addr, err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 30 * time.Second,
		ReadTimeout:       time.Duration(cfg.HTTP.ReadTimeout),
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	scheme := "http"
	if cfg.HTTP.TLSCertFile != "" {
		scheme = "https"
	}
	served := make(chan error, 1)
	go func() {
		if scheme == "https" {
			served <- srv.ServeTLS(ln, cfg.HTTP.TLSCertFile, cfg.HTTP.TLSKeyFile)
		} else {
			served <- srv.Serve(ln)
		}
	}()
	log.Info("sluice is serving", "version", version, "url", scheme+"://"+ln.Addr().String(), "data_dir", cfg.DataDir)

	// Receivers with sockets of their own stop before the final flush, so
	// that everything they acknowledged is in the WAL by then.
	lctx, stopListeners := context.WithCancel(context.Background())
	defer stopListeners()
	var lwg sync.WaitGroup
	for _, l := range listeners {
		lwg.Add(1)
		go func() {
			defer lwg.Done()
			log.Info("receiver listening", "addr", l.Addr())
			if err := l.Serve(lctx); err != nil {
				log.Error("receiver stopped", "addr", l.Addr(), "err", err)
			}
		}()
	}

	var serveErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down: no new requests; finishing running ones", "timeout", time.Duration(cfg.HTTP.ShutdownTimeout))
	case serveErr = <-served:
		log.Error("HTTP server stopped", "err", serveErr)
	}
	sctx, cancel := context.WithTimeout(context.Background(), time.Duration(cfg.HTTP.ShutdownTimeout))
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("requests still running at the shutdown timeout were cut off", "err", err)
	}
	stopListeners()
	lwg.Wait()
	if err := p.Close(context.Background()); err != nil {
		return fmt.Errorf("final flush: %w", err)
	}
	log.Info("shut down cleanly")
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return nil
}

// lockDataDir makes sure only one server uses a data directory.
func lockDataDir(dir string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock data directory: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("data directory %s is in use by another sluice process (%w); stop it or choose another --data-dir", dir, err)
	}
	return func() { f.Close() }, nil
}
