package process

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"os"
	"time"
)

// LoadFile reads, builds and tests the pipeline file at path: a file
// whose own test cases fail is refused like one that does not parse.
func LoadFile(path string, o Options) (*Pipeline, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read pipeline: %w", err)
	}
	return load(path, b, o)
}

func load(path string, b []byte, o Options) (*Pipeline, error) {
	c, err := ParseConfig(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("pipeline %s: %w", path, err)
	}
	p, err := c.Build(o)
	if err != nil {
		return nil, fmt.Errorf("pipeline %s: %w", path, err)
	}
	if err := TestsFailed(c.RunTests()); err != nil {
		return nil, fmt.Errorf("pipeline %s: its tests fail: %w", path, err)
	}
	return p, nil
}

// Watcher keeps a Sink's pipeline equal to a file's content: it reads the
// file every interval and, when its content changed, loads it. A change
// that does not load (or whose tests fail) is logged and counted, and the
// pipeline that runs stays; the next change is tried again.
type Watcher struct {
	path     string
	interval time.Duration
	sink     *Sink
	opts     Options
	log      *slog.Logger
	seen     [sha256.Size]byte // the content last tried
}

// Watch loads path into sink and returns the Watcher that keeps it
// current; an error here (the file missing, invalid or failing its tests)
// stops the start.
func Watch(path string, interval time.Duration, sink *Sink, o Options, log *slog.Logger) (*Watcher, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read pipeline: %w", err)
	}
	p, err := load(path, b, o)
	if err != nil {
		return nil, err
	}
	w := &Watcher{path: path, interval: interval, sink: sink, opts: o, log: log, seen: sha256.Sum256(b)}
	sink.Set(p)
	w.loaded()
	log.Info("pipeline loaded", "file", path, "steps", p.String())
	return w, nil
}

func (w *Watcher) loaded() {
	if m := w.opts.Metrics; m != nil {
		m.loaded.Set(1)
		m.lastSuccess.SetToCurrentTime()
	}
}

// Run checks the file every interval until ctx ends.
func (w *Watcher) Run(ctx context.Context) {
	t := time.NewTicker(w.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			w.Check()
		}
	}
}

// Check reloads the file if its content changed since it was last tried.
func (w *Watcher) Check() {
	b, err := os.ReadFile(w.path)
	if err != nil {
		// A file being replaced may be missing for a moment; the
		// pipeline running stays until a readable change arrives.
		w.log.Warn("pipeline file unreadable; the running pipeline stays", "file", w.path, "err", err)
		return
	}
	sum := sha256.Sum256(b)
	if sum == w.seen {
		return
	}
	w.seen = sum
	p, err := load(w.path, b, w.opts)
	m := w.opts.Metrics
	if err != nil {
		w.log.Error("pipeline change refused; the previous pipeline keeps running", "file", w.path, "err", err)
		if m != nil {
			m.reloads.WithLabelValues("error").Inc()
			m.loaded.Set(0)
		}
		return
	}
	w.sink.Set(p)
	w.loaded()
	if m != nil {
		m.reloads.WithLabelValues("ok").Inc()
	}
	w.log.Info("pipeline reloaded", "file", w.path, "steps", p.String())
}
