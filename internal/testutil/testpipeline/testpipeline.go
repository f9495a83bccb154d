// Package testpipeline opens a real pipeline (WAL and store in a test's
// temporary directory) for tests of the packages above it.
package testpipeline

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/pipeline"
	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/store"
	"github.com/sluice-log/sluice/internal/wal"
)

// Open returns a pipeline holding recs (in its head: flushes and merges
// wait an hour), closed when the test ends. reg receives its metrics; nil
// is a registry of its own.
func Open(t testing.TB, recs []record.Record, reg prometheus.Registerer) *pipeline.Pipeline {
	t.Helper()
	dir := t.TempDir()
	w, err := wal.Open(dir+"/wal", wal.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(dir+"/store", store.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	p, err := pipeline.Open(w, st, pipeline.Options{FlushInterval: time.Hour, MergeInterval: time.Hour},
		pipeline.NewMetrics(reg), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close(context.Background()) })
	if len(recs) > 0 {
		if err := p.Ingest(context.Background(), recs); err != nil {
			t.Fatal(err)
		}
	}
	return p
}
