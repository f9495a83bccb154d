package api

import (
	"context"
	"fmt"
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

// TestNDJSONWriterClose: Close hands the whole answer to the response
// writer, with the partial line when the answer is partial, but leaves
// sending it to the handler's end (no flush of its own) unless the answer
// passed a flush point before; writes after it fail; and a writer made
// after it (whose buffer may be the one given back) writes its own answer
// alone.
func TestNDJSONWriterClose(t *testing.T) {
	tests := []struct {
		name    string
		lines   int
		partial *Partial
		flushed bool
	}{
		{"empty", 0, nil, false},
		{"one row", 1, nil, false},
		{"partial", 1, &Partial{Reason: "a part could not be read"}, false},
		{"past a flush point", 1000, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for round := range 2 {
				rec := httptest.NewRecorder()
				out := NewNDJSONWriter(rec, nil)
				for i := range tt.lines {
					if err := out.Write(append(out.Buf(), fmt.Sprintf(`{"n":%d,"round":%d}`, i, round)...)); err != nil {
						t.Fatal(err)
					}
				}
				if err := out.Close(tt.partial); err != nil {
					t.Fatal(err)
				}
				if rec.Flushed != tt.flushed {
					t.Errorf("round %d: flushed %v, want %v", round, rec.Flushed, tt.flushed)
				}
				want := tt.lines
				if tt.partial != nil {
					want++
				}
				body := rec.Body.String()
				if got := strings.Count(body, "\n"); got != want {
					t.Fatalf("round %d: %d lines, want %d: %q", round, got, want, body)
				}
				if tt.lines > 0 && !strings.Contains(body, fmt.Sprintf(`{"n":%d,"round":%d}`, tt.lines-1, round)) {
					t.Errorf("round %d: last row missing: %q", round, body)
				}
				if strings.Contains(body, fmt.Sprintf(`"round":%d`, 1-round)) {
					t.Errorf("round %d: another answer's row: %q", round, body)
				}
				if got := rec.Header().Get(PartialTrailer); (got == "true") != (tt.partial != nil) {
					t.Errorf("round %d: trailer %q", round, got)
				}
				if err := out.Write([]byte(`{}`)); err == nil {
					t.Errorf("round %d: a write after Close succeeded", round)
				}
				if err := out.Close(nil); err == nil {
					t.Errorf("round %d: a second Close succeeded", round)
				}
			}
		})
	}
}
