package pipeline

import (
	"context"
	"testing"

	"github.com/sluice-log/sluice/internal/cpuslot"
)

// TestIngestWaitsBehindSearch: encoding a batch into the WAL is
// ingest-priority work on a CPU slot (package cpuslot), so it waits while a
// search holds the slot, and takes none while it waits for the WAL's
// fsync; the head append, in WAL order under the sequencer, takes none.
func TestIngestWaitsBehindSearch(t *testing.T) {
	pool := cpuslot.New(1)
	prev := cpuslot.Shared()
	cpuslot.SetShared(pool)
	t.Cleanup(func() { cpuslot.SetShared(prev) })
	p := openTest(t, Options{})
	ctx := context.Background()
	if err := pool.Acquire(ctx, cpuslot.High); err != nil { // a search
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Ingest(ctx, batch(10, 0)) }()
	waitFor(t, "the ingest to wait for the search's slot", func() bool {
		return pool.Stats(cpuslot.Ingest).Waiting == 1 || len(done) == 1
	})
	pool.Release(cpuslot.High)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := p.store.Stats().HeadRecords; n != 10 {
		t.Errorf("head records %d, want 10", n)
	}
	// The WAL's encoding on the slot, the head's append without one.
	st := pool.Stats(cpuslot.Ingest)
	if st.Acquired != 1 || st.Waited != 1 || st.Held != 0 {
		t.Errorf("ingest took %d slots, waited %d times, holds %d; want 1, 1, 0", st.Acquired, st.Waited, st.Held)
	}
}
