package store

import (
	"context"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/cpuslot"
	"github.com/sluice-log/sluice/internal/record"
)

// heldProbe records, at each write to its file, how many CPU slots were
// held.
type heldProbe struct {
	w    io.Writer
	pool *cpuslot.Pool
	held []int64
}

func (hp *heldProbe) Write(b []byte) (int, error) {
	hp.held = append(hp.held, hp.pool.Stats(cpuslot.Low).Held)
	return hp.w.Write(b)
}

// TestPartWriteWithoutSlot: a flush writer's or a merge's slot is given
// back while the part's file takes a write (which may block on a full
// page cache or a slow disk) and held again after it, so that the others
// do not wait for a CPU nobody uses.
func TestPartWriteWithoutSlot(t *testing.T) {
	enc, dec, err := newCodecs(1)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	defer dec.Close()
	w, err := newPartWriter(t.TempDir(), "20260101", "0000000000000001", enc, 64, nil)
	if err != nil {
		t.Fatal(err)
	}
	pool := cpuslot.New(1)
	ctx := context.Background()
	cpu, err := pool.Hold(ctx, cpuslot.Low)
	if err != nil {
		t.Fatal(err)
	}
	defer cpu.Release()
	probe := &heldProbe{w: w.out.w, pool: pool}
	w.out.w = probe
	w.holdCPU(ctx, cpu)
	recs := genRecords(rand.New(rand.NewPCG(3, 3)), 500, 0)
	for i := range recs {
		if err := w.add(&recs[i], nil, streamKey(recs[i].Tenant, recs[i].Stream)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.seal(ctx); err != nil {
		t.Fatal(err)
	}
	if len(probe.held) == 0 {
		t.Fatal("the part's file took no write")
	}
	for i, n := range probe.held {
		if n != 0 {
			t.Errorf("write %d: %d slots held, want 0", i, n)
		}
	}
	if !cpu.Held() {
		t.Error("the writer's slot is not held again after its writes")
	}
}

// lentSlot returns a search's slot of a pool of one, not held yet, and a
// context that lends it to Search (cpuslot.WithHold).
func lentSlot(t *testing.T) (*cpuslot.Pool, *cpuslot.Hold, context.Context) {
	pool := cpuslot.New(1)
	cpu := pool.NewHold(cpuslot.High)
	t.Cleanup(cpu.Release)
	return pool, cpu, cpuslot.WithHold(context.Background(), cpu)
}

// TestSearchOnLentSlot: a caller that holds a search's slot for a whole
// query (the query engine, cpuslot.WithHold) lends it to Search, which
// takes no second one and leaves it held for the caller's work after the
// search.
func TestSearchOnLentSlot(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{})
	defer s.Close()
	recs := genRecords(rand.New(rand.NewPCG(5, 5)), 100, 0)
	for i := range recs {
		recs[i].Tenant = ""
	}
	s.Append(recs, 1)
	pool, cpu, ctx := lentSlot(t)
	n := 0
	err := s.Search(ctx, SearchRequest{}, func(*record.Record) error {
		if n++; n == 1 && !cpu.Held() {
			t.Error("the search does not run on the lent slot")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != len(recs) {
		t.Errorf("searched %d records, want %d", n, len(recs))
	}
	if !cpu.Held() {
		t.Error("the lent slot was given back by the search")
	}
	// The lent slot was taken at once; the search's second worker (from
	// the lent slot's pool, a pool of one) waits for a slot until no unit
	// is left, and then takes none.
	if st := pool.Stats(cpuslot.High); st.Acquired-st.Waited != 1 || st.Held != 1 || st.OverLimit != 0 {
		t.Errorf("slots taken at once %d, held %d, over the limit %d; want 1, 1, 0", st.Acquired-st.Waited, st.Held, st.OverLimit)
	}
}

// TestSearchWorkersAreSiblings: a search's workers share its turn on the
// CPU slots (cpuslot.Hold.Sibling): once the first has held its slot for
// a Slice, it does not hand it over to its own second worker, who waits
// in line for a slot of the same pool, and ends up doing every unit
// itself (a pool of one slot); the second takes none once none is left.
// A worker whose Hold is not its search's sibling would be handed the
// slot, and the search would pass its own work from one goroutine to the
// other while other searches wait as before.
func TestSearchWorkersAreSiblings(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0)))) // two workers at least
	s := openTest(t, t.TempDir(), Options{BlockRecords: 8})
	defer s.Close()
	recs := make([]record.Record, 3*chunkBlocks*8) // three index chunks: three units
	for i := range recs {
		recs[i] = record.Record{Time: testBase + int64(i)*int64(time.Millisecond),
			Stream: []record.Field{{Name: "app", Value: "a"}}, Message: "line"}
	}
	s.Append(recs, 1)
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	pool, _, ctx := lentSlot(t)
	n := 0
	err := s.Search(ctx, SearchRequest{}, func(*record.Record) error {
		if n++; n == 1 {
			// The second worker is in line; the first's slice ends.
			for pool.Stats(cpuslot.High).Waiting == 0 {
				time.Sleep(time.Millisecond)
			}
			time.Sleep(2 * cpuslot.Slice)
		}
		return nil
	})
	if err != nil || n != len(recs) {
		t.Fatalf("search: %d of %d records, %v", n, len(recs), err)
	}
	if st := pool.Stats(cpuslot.High); st.HandedOver != 0 || st.Acquired-st.Waited != 1 || st.Held != 1 {
		t.Errorf("slots handed over %d, taken at once %d, held %d; want 0, 1, 1", st.HandedOver, st.Acquired-st.Waited, st.Held)
	}
}
