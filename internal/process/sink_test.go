package process

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/record"
)

type captureSink struct {
	batches [][]record.Record
	err     error
}

func (c *captureSink) Ingest(_ context.Context, recs []record.Record) error {
	if c.err != nil {
		return c.err
	}
	c.batches = append(c.batches, recs)
	return nil
}

func TestSinkLeavesTheCallersBatchAlone(t *testing.T) {
	next := &captureSink{err: &ingest.BackpressureError{RetryAfter: time.Second}}
	s := NewSink(next, nil, nil)
	s.Set(build(t, "- type: parse_json\n- {type: drop, if: 'level:debug'}"))
	batch := []record.Record{rec(`{"level":"info","msg":"a"}`, "k", "v"), rec(`{"level":"debug"}`)}
	want := []string{fields(batch[0]), fields(batch[1])}
	// A receiver retries the same batch after backpressure: it must be
	// processed from the same input each time.
	for range 2 {
		if _, ok := ingest.IsBackpressure(s.Ingest(context.Background(), batch)); !ok {
			t.Fatal("backpressure not passed through")
		}
	}
	next.err = nil
	if err := s.Ingest(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	for i := range batch {
		if got := fields(batch[i]); got != want[i] {
			t.Errorf("caller's record %d changed: %s", i, got)
		}
	}
	if len(next.batches) != 1 || len(next.batches[0]) != 1 || fields(next.batches[0][0]) != "a | k=v level=info" {
		t.Errorf("passed on %v", next.batches)
	}
	// A batch that is dropped whole is acknowledged without a write.
	if err := s.Ingest(context.Background(), []record.Record{rec(`{"level":"debug"}`)}); err != nil || len(next.batches) != 1 {
		t.Errorf("all dropped: %v, %d batches", err, len(next.batches))
	}
}

func TestSinkWindow(t *testing.T) {
	next := &captureSink{}
	reg := prometheus.NewRegistry()
	s := NewSink(next, ingest.NewTimeWindow(ingest.WindowConfig{Retention: 24 * time.Hour}, nil), reg)
	s.Set(build(t, "- {type: timestamp, layouts: [rfc3339]}"))
	now := time.Now().UTC()
	err := s.Ingest(context.Background(), []record.Record{
		rec("old", "time", now.Add(-48*time.Hour).Format(time.RFC3339)),
		rec("new", "time", now.Add(-time.Hour).Format(time.RFC3339)),
	})
	if err != nil || len(next.batches) != 1 || len(next.batches[0]) != 1 || next.batches[0][0].Message != "new" {
		t.Fatalf("%v %v", err, next.batches)
	}
	if got := testutil.ToFloat64(s.rejected.WithLabelValues("too_old")); got != 1 {
		t.Errorf("rejected too_old = %v", got)
	}
}

func TestWatcher(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pipeline.yaml")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m := NewMetrics(prometheus.NewRegistry())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s := NewSink(&captureSink{}, nil, nil)

	write("processors: [{type: nope}]")
	if _, err := Watch(path, time.Hour, s, Options{Metrics: m}, log); err == nil {
		t.Fatal("an invalid file started")
	}
	write("processors: [{type: set, fields: {v: '1'}}]\ntests: [{input: x, expect: {_msg: x, v: '1'}}]")
	w, err := Watch(path, time.Hour, s, Options{Metrics: m}, log)
	if err != nil {
		t.Fatal(err)
	}
	version := func() string {
		out := s.Pipeline().Process([]record.Record{rec("m")})
		v, _ := out[0].Get("v")
		return v
	}
	if version() != "1" || testutil.ToFloat64(m.loaded) != 1 {
		t.Fatal("first load")
	}
	// A change whose own test fails is refused: the old pipeline stays.
	write("processors: [{type: set, fields: {v: '2'}}]\ntests: [{input: x, expect: {_msg: x, v: '1'}}]")
	w.Check()
	if version() != "1" || testutil.ToFloat64(m.loaded) != 0 || testutil.ToFloat64(m.reloads.WithLabelValues("error")) != 1 {
		t.Fatal("a failing change was taken")
	}
	w.Check() // unchanged: not tried again
	if testutil.ToFloat64(m.reloads.WithLabelValues("error")) != 1 {
		t.Fatal("the same content was tried twice")
	}
	write("processors: [{type: set, fields: {v: '3'}}]")
	w.Check()
	if version() != "3" || testutil.ToFloat64(m.loaded) != 1 || testutil.ToFloat64(m.reloads.WithLabelValues("ok")) != 1 {
		t.Fatal("a good change was not taken")
	}
	os.Remove(path)
	w.Check()
	if version() != "3" {
		t.Fatal("a missing file changed the pipeline")
	}
}
