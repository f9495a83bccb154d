package pipeline

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/store"
	"github.com/sluice-log/sluice/internal/wal"
)

func openTest(t *testing.T, opts Options) *Pipeline {
	t.Helper()
	return openTestIn(t, t.TempDir(), opts)
}

// openTestIn opens a pipeline on dir/wal and dir/store.
func openTestIn(t *testing.T, dir string, opts Options) *Pipeline {
	t.Helper()
	w, err := wal.Open(dir+"/wal", wal.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(dir+"/store", store.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	opts.FlushInterval, opts.MergeInterval = time.Hour, time.Hour
	p, err := Open(w, st, opts, NewMetrics(prometheus.NewRegistry()), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close(context.Background()) })
	return p
}

func batch(n, first int) []record.Record {
	recs := make([]record.Record, n)
	for i := range recs {
		recs[i] = record.Record{Time: time.Now().UnixNano(), Message: "request " + strconv.Itoa(first+i) + " served in 12ms",
			Stream: []record.Field{{Name: "service", Value: "api"}}}
	}
	return recs
}

// waitFor polls cond: the flush it waits for runs on another goroutine.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestFlushTriggersAtFlushBytes(t *testing.T) {
	const flushBytes = 1 << 20
	p := openTest(t, Options{FlushBytes: flushBytes})
	ctx := context.Background()
	n := 0
	for p.store.HeadBytes() < flushBytes/2 {
		if err := p.Ingest(ctx, batch(100, n)); err != nil {
			t.Fatal(err)
		}
		n += 100
	}
	// The interval is an hour and the head is below the bound: nothing
	// has asked for a flush yet.
	if st := p.store.Stats(); st.Parts != 0 || st.HeadRecords != int64(n) {
		t.Fatalf("flushed below flush_bytes: %+v", st)
	}
	for p.store.HeadBytes() < flushBytes {
		if err := p.Ingest(ctx, batch(100, n)); err != nil {
			t.Fatal(err)
		}
		n += 100
	}
	waitFor(t, "the flush kicked at flush_bytes", func() bool { return p.store.Stats().Records > 0 })
	if got := p.store.DurableSeq(); got == 0 {
		t.Fatalf("durable seq %d after flush", got)
	}
}

func TestIngestWaitsForHeadRoom(t *testing.T) {
	ctx := context.Background()
	p := openTest(t, Options{MaxHeadBytes: 1, HeadWait: 20 * time.Millisecond})
	if err := p.Ingest(ctx, batch(10, 0)); err != nil {
		t.Fatal(err)
	}
	seq := p.wal.LastSeq()

	// While no flush can finish, a request waits out HeadWait and is
	// refused with backpressure before anything reaches the WAL.
	p.flushMu.Lock()
	err := p.Ingest(ctx, batch(10, 10))
	if _, ok := ingest.IsBackpressure(err); !ok {
		p.flushMu.Unlock()
		t.Fatalf("Ingest over the head bound = %v, want backpressure", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	err = p.Ingest(cctx, batch(10, 10))
	p.flushMu.Unlock()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Ingest with a cancelled context = %v", err)
	}
	if got := p.wal.LastSeq(); got != seq {
		t.Fatalf("refused requests reached the WAL: last seq %d, want %d", got, seq)
	}
	var m dto.Metric
	if err := p.m.headWaits.Write(&m); err != nil {
		t.Fatal(err)
	}
	if got := m.GetCounter().GetValue(); got != 2 {
		t.Fatalf("head waits = %v, want 2", got)
	}

	// The wait kicked a flush; once it ran, there is room again.
	p.opts.HeadWait = time.Minute
	if err := p.Ingest(ctx, batch(10, 20)); err != nil {
		t.Fatalf("Ingest after the flush: %v", err)
	}
	// More kicks may be pending, so the last batch may be flushed too.
	if st := p.store.Stats(); st.Records < 10 || st.Records+st.HeadRecords != 20 {
		t.Fatalf("after the flush: %+v", st)
	}
}
