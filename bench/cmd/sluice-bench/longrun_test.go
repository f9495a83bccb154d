package main

import (
	"context"
	"math"
	"os"
	"sync/atomic"
	"testing"
	"time"
)

// TestRSSSampler samples this test process: the checkpoint is taken once
// the records acknowledged pass rssCheckpoint of the total, not before,
// and the end of the ingest when told.
func TestRSSSampler(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no procfs")
	}
	var sent atomic.Int64
	s := startRSSSampler(context.Background(), os.Getpid(), &sent, 1000, 10*time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	s.mu.Lock()
	early := s.trace.AtCheckpoint
	s.mu.Unlock()
	if early != nil {
		t.Fatalf("checkpoint taken at %d of 1000 records", early.Records)
	}
	sent.Store(60)
	deadline := time.Now().Add(5 * time.Second)
	for !func() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.trace.AtCheckpoint != nil }() {
		if time.Now().After(deadline) {
			t.Fatal("no checkpoint 5 s after passing it")
		}
		time.Sleep(10 * time.Millisecond)
	}
	sent.Store(1000)
	s.endOfIngest()
	tr := s.finish()
	if tr.AtCheckpoint.Records != 60 || tr.EndOfIngest == nil || tr.EndOfIngest.Records != 1000 {
		t.Fatalf("checkpoint %+v, end of ingest %+v", tr.AtCheckpoint, tr.EndOfIngest)
	}
	if len(tr.Samples) < 3 {
		t.Errorf("%d samples, want several", len(tr.Samples))
	}
	peak, now := tr.growth()
	if math.IsNaN(float64(peak)) || peak < 1 || math.IsNaN(float64(now)) || now <= 0 {
		t.Errorf("growth %v (peak), %v (now)", peak, now)
	}
	var none *rssTrace
	if p, _ := none.growth(); !math.IsNaN(float64(p)) {
		t.Errorf("growth without samples = %v, want NaN", p)
	}
}
