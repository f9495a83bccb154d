package main

import (
	"context"
	"io"
	"os/signal"
	"syscall"

	"github.com/sluice-log/sluice/internal/agent"
)

func runAgent(args []string, _, stderr io.Writer) error {
	fs := newFlagSet("agent", "agent --config agent.yaml", `
'agent' tails log files (plain text, Docker json-file, CRI) by glob,
follows them through rotation by rename and by copytruncate, truncation and
deletion, joins multiline records (a line matching multiline.start opens
one), runs the processing pipeline of the configuration's pipeline:
section, and ships the records to a Sluice server over the forward protocol
with acks (output.forward, one batch at a time) or to its _bulk API
(output.http, up to output.max_concurrency batches in flight, fewer while
the server pushes back or slows down: AIMD). Batches wait in a disk
buffer in state_dir, bounded by buffer.max_bytes; when it is full the
agent stops reading. A file's checkpoint moves only after the server
acknowledged its records and every batch before them, so a crash repeats
at most the batches in flight and loses nothing. Metrics on metrics_addr (default 127.0.0.1:9282). See
docs/agent.md.

  state_dir: /var/lib/sluice-agent
  inputs:
    - type: file                  # file, docker (json-file), cri
      paths: ["/var/log/app/*.log"]
      multiline: {start: '^\d{4}-\d{2}-\d{2}'}
  output:
    forward: 127.0.0.1:24224      # or http: http://sluice:9280`, stderr)
	cfgPath := fs.String("config", "", "agent configuration `file` (required)")
	if _, err := parseInterleaved(fs, args); err != nil {
		return err
	}
	if *cfgPath == "" {
		return usagef("--config is required")
	}
	cfg, err := agent.Load(*cfgPath)
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, stderr).With("component", "agent")
	a, err := agent.New(cfg, log)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	log.Info("agent started", "inputs", len(cfg.Inputs), "state_dir", cfg.StateDir)
	return a.Run(ctx)
}
