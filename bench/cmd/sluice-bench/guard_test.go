package main

import (
	"bytes"
	"context"
	"math"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sluice-log/sluice/internal/cpuslot"
	sluiceingest "github.com/sluice-log/sluice/internal/ingest"
)

// TestParseGuards reads the guards' counters from the metrics the real
// server's packages expose: every priority's CPU slot counters as the
// pool counts them (one ingest waiter queued behind a search), and the
// ingest refusals of every protocol summed.
func TestParseGuards(t *testing.T) {
	reg := prometheus.NewRegistry()
	pool := cpuslot.New(1)
	reg.MustRegister(cpuslot.NewCollector(pool))
	inFlight := sluiceingest.NewInFlight(0, reg)
	inFlight.Refused("jsonline")
	inFlight.Refused("jsonline")
	inFlight.Refused("bulk")

	ctx := context.Background()
	search, err := pool.Hold(ctx, cpuslot.High)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error)
	go func() {
		h, err := pool.Hold(ctx, cpuslot.Ingest)
		if err == nil {
			h.Release()
		}
		got <- err
	}()
	for pool.Stats(cpuslot.Ingest).Waiting == 0 {
		time.Sleep(time.Millisecond)
	}
	search.Release()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	// A search's extra worker, counted apart: it waits for its search's
	// slot, and is admitted over the limit after cpuslot.MaxWait.
	extra := search.Sibling()
	if err := search.Reacquire(ctx); err != nil {
		t.Fatal(err)
	}
	if err := extra.Reacquire(ctx); err != nil {
		t.Fatal(err)
	}
	extra.Release()
	search.Release()
	if ex := pool.ExtraStats(cpuslot.High); ex.OverLimit != 1 {
		t.Fatalf("extra workers over the limit %d, want 1", ex.OverLimit)
	}

	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", metricsPath, nil))
	g, err := parseGuards(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if g.IngestRefused != 3 {
		t.Errorf("ingest refused %d, want 3", g.IngestRefused)
	}
	for prio, p := range map[string]cpuslot.Priority{"high": cpuslot.High, "ingest": cpuslot.Ingest, "low": cpuslot.Low} {
		st, s := pool.Stats(p), g.Slots[prio]
		if s.Acquired != st.Acquired || s.Waited != st.Waited || s.OverLimit != st.OverLimit || math.Abs(s.WaitSeconds-st.WaitTime.Seconds()) > 1e-6 {
			t.Errorf("%s: parsed %+v, the pool counts %+v", prio, s, st)
		}
		ex := pool.ExtraStats(p)
		if s.ExtraAcquired != ex.Acquired || s.ExtraWaited != ex.Waited || s.ExtraGaveUp != ex.GaveUp || s.ExtraOverLimit != ex.OverLimit {
			t.Errorf("%s: parsed %+v, the pool counts %+v for extra workers", prio, s, ex)
		}
		var units int64
		for _, n := range pool.Units(p).Counts {
			units += n
		}
		if s.Units != units || s.UnitsOver1ms < 0 || s.UnitsOver1ms > units || s.UnitsOver16ms > s.UnitsOver4ms || s.UnitsOver4ms > s.UnitsOver1ms {
			t.Errorf("%s: parsed %d units (%d, %d, %d over 1, 4, 16 ms), the pool counts %d", prio, s.Units, s.UnitsOver1ms, s.UnitsOver4ms, s.UnitsOver16ms, units)
		}
	}
	if s := g.Slots["high"]; s.ExtraAcquired != 1 || s.ExtraOverLimit != 1 || s.Units != 3 {
		t.Errorf("search slots %+v: want 1 taken by an extra worker over the limit, 3 units", s)
	}
	if s := g.Slots["ingest"]; s.Acquired != 1 || s.Waited != 1 {
		t.Errorf("ingest slots %+v: want 1 taken after a wait", s)
	}
	if _, err := parseGuards(bytes.NewReader([]byte("# nothing\nup 1\n"))); err == nil {
		t.Error("metrics without the CPU slots' parsed")
	}
}
