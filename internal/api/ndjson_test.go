package api

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/cpuslot"
)

// slotCheckingRecorder fails the test when it is written to or flushed
// while the query's CPU slot is held: a client that reads slowly would
// keep a CPU from the others.
type slotCheckingRecorder struct {
	*httptest.ResponseRecorder
	t      *testing.T
	cpu    *cpuslot.Hold
	writes int
}

func (r *slotCheckingRecorder) Write(p []byte) (int, error) {
	r.writes++
	if r.cpu.Held() {
		r.t.Errorf("write %d to the client with the CPU slot held", r.writes)
	}
	return r.ResponseRecorder.Write(p)
}

func (r *slotCheckingRecorder) Flush() {
	if r.cpu.Held() {
		r.t.Error("flush to the client with the CPU slot held")
	}
	r.ResponseRecorder.Flush()
}

func TestNDJSONWriterWritesWithoutSlot(t *testing.T) {
	pool := cpuslot.New(1)
	cpu := pool.NewHold(cpuslot.High)
	if err := cpu.Reacquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	rec := &slotCheckingRecorder{ResponseRecorder: httptest.NewRecorder(), t: t, cpu: cpu}
	out := NewNDJSONWriter(rec, cpu)
	line := []byte(`{"_msg":"` + strings.Repeat("x", 200) + `"}`)
	const lines = 2500 // past the 64 KiB buffer and two flushes of 1000 lines
	for range lines {
		if err := out.Write(line); err != nil {
			t.Fatal(err)
		}
		if !cpu.Held() {
			t.Fatal("the slot was not taken again after a write to the client")
		}
	}
	// Close's writes end the query: it gives the slot back for good, not
	// taking it again after each (a wait behind ingest for nothing).
	acquired := pool.Stats(cpuslot.High).Acquired
	if err := out.Close(nil); err != nil {
		t.Fatal(err)
	}
	if cpu.Held() || pool.Stats(cpuslot.High).Held != 0 {
		t.Error("the slot is held after Close")
	}
	if got := pool.Stats(cpuslot.High).Acquired - acquired; got != 0 {
		t.Errorf("Close took the slot %d times, want 0", got)
	}
	if rec.writes == 0 {
		t.Fatal("nothing written to the client")
	}
	if got := strings.Count(rec.Body.String(), "\n"); got != lines {
		t.Fatalf("%d lines written, want %d", got, lines)
	}
}
