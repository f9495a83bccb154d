package aimd

import (
	"container/heap"
	"context"
	"math"
	"testing"
	"time"
)

// phase is a modelled server for a while: requests take base while at
// most knee are in flight, and longer beyond (queueing and contention:
// base × (n/knee)^1.5, so that too many in flight lowers throughput);
// above overload in flight it answers 429 at once.
type phase struct {
	name           string
	dur, base      time.Duration
	knee, overload int
}

func (p phase) latency(n int) time.Duration {
	f := math.Max(1, math.Pow(float64(n)/float64(p.knee), 1.5))
	return time.Duration(float64(p.base) * f)
}

type done struct {
	at, rtt time.Duration
	status  int
}
type doneHeap []done

func (h doneHeap) Len() int           { return len(h) }
func (h doneHeap) Less(i, j int) bool { return h[i].at < h[j].at }
func (h doneHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *doneHeap) Push(x any)        { *h = append(*h, x.(done)) }
func (h *doneHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// simulate keeps a sender with endless work on a limiter of cfg against
// the phases, on a simulated clock, and returns each phase's successful
// requests per second.
func simulate(phases []phase, cfg Config) ([]float64, *Limiter) {
	var now time.Duration
	epoch := time.Unix(0, 0)
	cfg.Now = func() time.Time { return epoch.Add(now) }
	l := New(cfg)
	var end []time.Duration
	var total time.Duration
	for _, p := range phases {
		total += p.dur
		end = append(end, total)
	}
	phaseAt := func(t time.Duration) int {
		for i, e := range end {
			if t < e {
				return i
			}
		}
		return len(end) - 1
	}
	ok := make([]float64, len(phases))
	h := &doneHeap{}
	for now < total {
		for l.TryAcquire() {
			p := phases[phaseAt(now)]
			n := h.Len() + 1
			if n > p.overload {
				heap.Push(h, done{now + 5*time.Millisecond, 5 * time.Millisecond, 429})
			} else {
				rtt := p.latency(n)
				heap.Push(h, done{now + rtt, rtt, 200})
			}
		}
		d := heap.Pop(h).(done)
		now = d.at
		if d.status == 429 {
			l.Release(d.rtt, Overloaded)
			continue
		}
		l.Release(d.rtt, OK)
		if now < total {
			ok[phaseAt(now)]++
		}
	}
	for i, p := range phases {
		ok[i] /= p.dur.Seconds()
	}
	return ok, l
}

// TestAIMDAgainstStatic: a sender with endless work against a server that
// is fast, then slow and pushing back with 429s, then fast again. On each
// phase the adaptive limit keeps at least 80% of the throughput of the
// best static concurrency for that phase (of 1 to 64), where
// every static choice loses more than that on some phase. Simulated time:
// the figures are deterministic.
func TestAIMDAgainstStatic(t *testing.T) {
	phases := []phase{
		{"fast", 30 * time.Second, 20 * time.Millisecond, 32, 48},
		{"slow, 429 above 12", 30 * time.Second, 100 * time.Millisecond, 8, 12},
		{"fast again", 30 * time.Second, 20 * time.Millisecond, 24, 40},
	}
	best := make([]float64, len(phases))
	bestC := make([]int, len(phases))
	worstStatic := 1.0 // the best static concurrency over all phases: its worst ratio
	statics := []int{1, 2, 4, 6, 8, 10, 12, 16, 20, 24, 28, 32, 40, 48, 64}
	for _, c := range statics {
		got, _ := simulate(phases, Config{Initial: c, Min: c, Max: c})
		for i := range phases {
			if got[i] > best[i] {
				best[i], bestC[i] = got[i], c
			}
		}
	}
	for _, c := range statics {
		got, _ := simulate(phases, Config{Initial: c, Min: c, Max: c})
		w := 1.0
		for i := range phases {
			w = math.Min(w, got[i]/best[i])
		}
		if c == 1 || w > worstStatic {
			worstStatic = w
		}
	}
	got, l := simulate(phases, Config{Initial: 1, Max: 64})
	for i, p := range phases {
		ratio := got[i] / best[i]
		t.Logf("%-20s aimd %6.0f/s, best static %6.0f/s at %2d in flight: %.2f", p.name, got[i], best[i], bestC[i], ratio)
		if ratio < 0.8 {
			t.Errorf("%s: adaptive throughput %.0f/s is %.2f of the best static %.0f/s, want at least 0.8", p.name, got[i], ratio, best[i])
		}
	}
	t.Logf("the best single static concurrency keeps %.2f of the best on its worst phase; final limit %d", worstStatic, l.Limit())
	if worstStatic >= 0.8 {
		t.Errorf("a static concurrency keeps %.2f on every phase: the phases do not need adapting", worstStatic)
	}
}

func TestAcquireWaitsAndHonoursContext(t *testing.T) {
	l := New(Config{Initial: 1, Max: 1})
	if err := l.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	if l.TryAcquire() {
		t.Fatal("took a second slot of one")
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- l.Acquire(ctx) }()
	cancel()
	if err := <-errc; err == nil {
		t.Fatal("Acquire returned nil after its context ended")
	}
	go func() { errc <- l.Acquire(context.Background()) }()
	l.Release(time.Millisecond, OK)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if l.InFlight() != 1 {
		t.Errorf("in flight %d, want 1", l.InFlight())
	}
}

func TestDecreaseOnBackpressure(t *testing.T) {
	var now time.Duration
	l := New(Config{Initial: 20, Max: 64, Now: func() time.Time { return time.Unix(0, 0).Add(now) }})
	var seen []int
	l.OnChange(func(n int) { seen = append(seen, n) })
	for range 3 {
		if !l.TryAcquire() {
			t.Fatal("no slot")
		}
		now += 10 * time.Millisecond
		l.Release(10*time.Millisecond, Overloaded)
	}
	// 20 → 18 → 16 → 14 (floor of 0.9×).
	if l.Limit() != 14 || len(seen) != 4 || seen[1] != 18 {
		t.Errorf("limit %d, changes %v; want 14 after three 429s", l.Limit(), seen)
	}
	// Failures that are not the server's load change nothing.
	l.TryAcquire()
	now += 10 * time.Millisecond
	l.Release(0, Failed)
	if l.Limit() != 14 {
		t.Errorf("limit %d after a plain failure, want 14", l.Limit())
	}
}

// TestAcquireN: a limiter of weights holds limit × Unit; a request heavier
// than all of it goes alone.
func TestAcquireN(t *testing.T) {
	l := New(Config{Initial: 2, Max: 4, Unit: 10})
	if !l.TryAcquireN(15) || l.TryAcquireN(10) || !l.TryAcquireN(5) {
		t.Fatal("a budget of 20 does not take 15 and 5 but refuse 10 between them")
	}
	l.ReleaseN(15, time.Millisecond, OK)
	l.ReleaseN(5, time.Millisecond, OK)
	if !l.TryAcquireN(100) || l.TryAcquireN(1) {
		t.Fatal("a request heavier than the budget does not go alone")
	}
	l.ReleaseN(100, time.Millisecond, OK)
	if n := l.InFlight(); n != 0 {
		t.Errorf("%d in flight after every release", n)
	}
}
