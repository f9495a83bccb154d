package cpuslot

import (
	"cmp"
	"context"
	"errors"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// queued waits until n waiters of prio are in p's line.
func queued(p *Pool, prio Priority, n int32) {
	for p.waiting[prio].Load() < n {
		runtime.Gosched()
	}
}

// lowHolder returns a pool of one slot, never admitting over the limit,
// and a low-priority Hold of that slot.
func lowHolder(t *testing.T) (*Pool, *Hold) {
	t.Helper()
	p := New(1)
	p.maxWait = time.Hour
	h, err := p.Hold(context.Background(), Low)
	if err != nil {
		t.Fatal(err)
	}
	return p, h
}

// TestGrantOrder: slots go to the waiters of the highest priority first,
// in the order they came, whatever the order of arrival across priorities.
func TestGrantOrder(t *testing.T) {
	type arrival struct {
		name string
		prio Priority
	}
	tests := []struct {
		name     string
		behind   time.Duration // MaxBehind; an hour when 0
		arrivals []arrival
		want     []string
	}{
		{name: "one priority is first come first served",
			arrivals: []arrival{{"l1", Low}, {"l2", Low}, {"l3", Low}},
			want:     []string{"l1", "l2", "l3"}},
		{name: "a search overtakes ingest that came first",
			arrivals: []arrival{{"l1", Low}, {"l2", Low}, {"h1", High}},
			want:     []string{"h1", "l1", "l2"}},
		{name: "searches among themselves in order, then the rest",
			arrivals: []arrival{{"l1", Low}, {"h1", High}, {"l2", Low}, {"h2", High}},
			want:     []string{"h1", "h2", "l1", "l2"}},
		{name: "only searches",
			arrivals: []arrival{{"h1", High}, {"h2", High}},
			want:     []string{"h1", "h2"}},
		{name: "ingest overtakes background work that came first",
			arrivals: []arrival{{"l1", Low}, {"i1", Ingest}, {"l2", Low}, {"i2", Ingest}, {"h1", High}},
			want:     []string{"h1", "i1", "i2", "l1", "l2"}},
		{name: "background work that waited MaxBehind goes before ingest",
			behind:   time.Nanosecond,
			arrivals: []arrival{{"l1", Low}, {"i1", Ingest}, {"h1", High}},
			want:     []string{"h1", "l1", "i1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := New(1)
			p.maxWait = time.Hour // no admission over the limit here
			p.behind = cmp.Or(tt.behind, time.Hour)
			if err := p.Acquire(context.Background(), Low); err != nil {
				t.Fatal(err)
			}
			granted := make(chan string)
			prioOf := map[string]Priority{}
			var n [numPriorities]int32
			for _, a := range tt.arrivals {
				prioOf[a.name] = a.prio
				go func() {
					if err := p.Acquire(context.Background(), a.prio); err != nil {
						t.Error(err)
					}
					granted <- a.name
				}()
				n[a.prio]++
				queued(p, a.prio, n[a.prio])
			}
			var got []string
			last := Low
			for range tt.arrivals {
				p.Release(last) // the previous holder's slot
				name := <-granted
				got = append(got, name)
				last = prioOf[name]
			}
			p.Release(last)
			if !slices.Equal(got, tt.want) {
				t.Errorf("granted %v, want %v", got, tt.want)
			}
			if st := p.Stats(Low); st.Held != 0 {
				t.Errorf("held %d after all released", st.Held)
			}
		})
	}
}

// TestYieldHandsOverToSearch: a low-priority holder that yields at the end
// of a unit gives its slot to the search waiting behind other low-priority
// work, not to that work; without priorities the search would come last.
func TestYieldHandsOverToSearch(t *testing.T) {
	p, h := lowHolder(t)
	ctx := context.Background()
	if err := h.Yield(ctx); err != nil || !h.Held() {
		t.Fatalf("Yield with nobody waiting: %v, held %v", err, h.Held())
	}
	order := make(chan string, 3)
	lowDone, highDone := make(chan struct{}), make(chan struct{})
	go func() {
		_ = p.Acquire(ctx, Low)
		order <- "other ingest"
		p.Release(Low)
		close(lowDone)
	}()
	queued(p, Low, 1)
	go func() {
		_ = p.Acquire(ctx, High)
		order <- "search"
		p.Release(High)
		close(highDone)
	}()
	queued(p, High, 1)
	if !p.Waiting(Low) {
		t.Fatal("Waiting(Low) = false with a search in line")
	}
	if p.Waiting(High) {
		t.Fatal("Waiting(High) = true: nothing is above High")
	}
	if err := h.Yield(ctx); err != nil { // returns once the slot came back
		t.Fatal(err)
	}
	order <- "yielder"
	h.Release()
	<-lowDone
	<-highDone
	close(order)
	var got []string
	for s := range order {
		got = append(got, s)
	}
	if want := []string{"search", "other ingest", "yielder"}; !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
	if st := p.Stats(Low); st.HandedOver != 1 {
		t.Errorf("handed over %d, want 1", st.HandedOver)
	}
}

// TestSearchShare: while ingest waits, searches hold at most all slots
// but one: a search's extra slot above that share is reported by
// Waiting(High), and a slot given back goes to the waiting ingest, not to
// the search waiting before it; without ingest waiting, searches take
// every slot.
func TestSearchShare(t *testing.T) {
	p := New(2)
	p.maxWait = time.Hour
	ctx := context.Background()
	for range 2 { // no ingest waits: searches may take both slots
		if err := p.Acquire(ctx, High); err != nil {
			t.Fatal(err)
		}
	}
	if p.Waiting(High) {
		t.Fatal("Waiting(High) with nothing else in line")
	}
	ingest := make(chan struct{})
	go func() {
		_ = p.Acquire(ctx, Low)
		close(ingest)
	}()
	queued(p, Low, 1)
	if !p.Waiting(High) {
		t.Fatal("Waiting(High) = false: searches hold both slots while ingest waits")
	}
	search := make(chan struct{})
	go func() {
		_ = p.Acquire(ctx, High)
		close(search)
	}()
	queued(p, High, 1)
	if p.Waiting(Low) {
		t.Error("Waiting(Low) = true, but the waiting search may not have the slot ingest keeps")
	}
	p.Release(High) // the extra slot: it goes to ingest, not to the search
	<-ingest
	select {
	case <-search:
		t.Fatal("a search was granted the slot kept for waiting ingest")
	default:
	}
	if p.Waiting(High) {
		t.Error("Waiting(High) = true at the searches' share")
	}
	p.Release(Low) // ingest is done: the search may have it
	<-search
	if st := p.Stats(High); st.Held != 2 {
		t.Errorf("held %d, want 2", st.Held)
	}
	p.Release(High)
	p.Release(High)
}

// TestOverLimit: a waiter whose holder never lets go is admitted above the
// limit after the longest wait, so that a holder that blocks cannot
// deadlock the others.
func TestOverLimit(t *testing.T) {
	p := New(1)
	p.maxWait = time.Millisecond
	ctx := context.Background()
	if err := p.Acquire(ctx, Low); err != nil {
		t.Fatal(err)
	}
	if err := p.Acquire(ctx, High); err != nil {
		t.Fatal(err)
	}
	st := p.Stats(High)
	if st.OverLimit != 1 || st.Held != 2 || st.Waited != 1 {
		t.Errorf("stats %+v, want one over the limit, two held", st)
	}
	p.Release(High)
	p.Release(Low)
	if st := p.Stats(High); st.Held != 0 {
		t.Errorf("held %d after all released", st.Held)
	}
}

// TestCancelled: a waiter whose context ends leaves the line holding
// nothing, and the slot goes to the next one.
func TestCancelled(t *testing.T) {
	p := New(1)
	p.maxWait = time.Hour
	bg := context.Background()
	if err := p.Acquire(bg, Low); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(bg)
	errc := make(chan error)
	go func() { errc <- p.Acquire(ctx, High) }()
	queued(p, High, 1)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Acquire = %v, want context.Canceled", err)
	}
	if p.Waiting(Low) {
		t.Error("the cancelled search is still in line")
	}
	p.Release(Low)
	if err := p.Acquire(bg, Low); err != nil {
		t.Fatal(err)
	}
	if st := p.Stats(Low); st.Held != 1 {
		t.Errorf("held %d, want 1", st.Held)
	}
}

// TestNilPool: a nil pool admits everything.
func TestNilPool(t *testing.T) {
	var p *Pool
	ctx := context.Background()
	h, err := p.Hold(ctx, Low)
	if err != nil || !h.Held() {
		t.Fatalf("Hold = %v, held %v", err, h.Held())
	}
	if err := h.Yield(ctx); err != nil {
		t.Fatal(err)
	}
	h.Release()
	if p.Waiting(Low) || p.Size() != 0 {
		t.Error("a nil pool has waiters or slots")
	}
}

// TestCollector: the wait time and the hand-overs are exported per
// priority, an extra worker's apart.
func TestCollector(t *testing.T) {
	p := New(1)
	p.maxWait = time.Millisecond
	ctx := context.Background()
	_ = p.Acquire(ctx, Low)
	_ = p.Acquire(ctx, High) // waits, then over the limit
	_ = p.NewHold(High).Sibling().Reacquire(ctx)
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCollector(p))
	got, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]float64{}
	for _, mf := range got {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range m.GetLabel() {
				key += "{" + l.GetValue() + "}"
			}
			values[key] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	for key, want := range map[string]float64{
		"sluice_cpu_slot_acquired_total{high}":   1,
		"sluice_cpu_slot_acquired_total{low}":    1,
		"sluice_cpu_slot_waits_total{high}":      1,
		"sluice_cpu_slot_waits_total{low}":       0,
		"sluice_cpu_slot_over_limit_total{high}": 1,
		"sluice_cpu_slot_slots":                  1,
		"sluice_cpu_slot_held":                   3,

		"sluice_cpu_slot_extra_acquired_total{high}":    1,
		"sluice_cpu_slot_extra_over_limit_total{high}":  1,
		"sluice_cpu_slot_extra_handed_over_total{high}": 0,
		"sluice_cpu_slot_handed_over_total{high}":       0,
	} {
		if got, ok := values[key]; !ok || got != want {
			t.Errorf("%s = %v (exported %v), want %v", key, got, ok, want)
		}
	}
	if values["sluice_cpu_slot_wait_seconds_total{high}"] <= 0 {
		t.Error("no wait time for the search that waited")
	}
}

// TestYieldSlice: at a unit's end a holder hands its slot to a waiter of
// its own priority once it has held it for the slice, and keeps it before
// that; a search does so only within the searches' share, and never to
// its own sibling (another worker of the same search).
func TestYieldSlice(t *testing.T) {
	tests := []struct {
		name    string
		size    int
		slice   time.Duration
		holder  Priority
		waiter  Priority
		ingest  bool // a Low waiter is in line too (the search share)
		sibling bool // the waiter is the holder's Sibling
		extra   bool // the holder is an extra worker (a Sibling)
		handed  bool
	}{
		{name: "a flush behind a merge, slice over", size: 1, holder: Low, waiter: Low, handed: true},
		{name: "a flush behind a merge, within the slice", size: 1, slice: time.Hour, holder: Low, waiter: Low},
		{name: "ingest behind a merge, slice over", size: 1, holder: Low, waiter: Ingest, handed: true},
		{name: "ingest behind a merge, within the slice", size: 1, slice: time.Hour, holder: Low, waiter: Ingest},
		{name: "a merge behind ingest, slice over", size: 1, holder: Ingest, waiter: Low},
		{name: "a small search behind a heavy one, slice over", size: 1, holder: High, waiter: High, handed: true},
		{name: "a small search behind a heavy one, within the slice", size: 1, slice: time.Hour, holder: High, waiter: High},
		{name: "a search within the share while ingest waits", size: 2, holder: High, waiter: High, ingest: true, handed: true},
		{name: "a search's second worker behind its first, slice over", size: 1, holder: High, waiter: High, sibling: true},
		{name: "a sibling within the share while ingest waits", size: 2, holder: High, waiter: High, ingest: true, sibling: true},
		{name: "a merge's sibling, slice over", size: 1, holder: Low, waiter: Low, sibling: true},
		{name: "a search's extra worker behind another search, slice over", size: 1, holder: High, waiter: High, extra: true, handed: true},
		{name: "a search's extra worker behind another, within the slice", size: 1, slice: time.Hour, holder: High, waiter: High, extra: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := New(tc.size)
			p.maxWait, p.slice, p.behind = time.Hour, tc.slice, time.Hour
			ctx := context.Background()
			h := p.NewHold(tc.holder)
			if tc.extra {
				h = h.Sibling()
			}
			if err := h.Reacquire(ctx); err != nil {
				t.Fatal(err)
			}
			// Hand-overs count where the holder's slots do: an extra
			// worker's apart.
			handedOver := func() (counted, other int64) {
				if tc.extra {
					return p.ExtraStats(tc.holder).HandedOver, p.Stats(tc.holder).HandedOver
				}
				return p.Stats(tc.holder).HandedOver, p.ExtraStats(tc.holder).HandedOver
			}
			if tc.ingest {
				// Ingest holds the other slot, and more of it waits.
				if err := p.Acquire(ctx, Low); err != nil {
					t.Fatal(err)
				}
				ingestWaits := make(chan struct{})
				go func() { _ = p.Acquire(ctx, Low); close(ingestWaits) }()
				queued(p, Low, 1)
				t.Cleanup(func() { p.Release(Low); <-ingestWaits; p.Release(Low) })
			}
			got := make(chan struct{})
			if tc.sibling {
				s := h.Sibling()
				go func() { _ = s.Reacquire(ctx); close(got); s.Release() }()
			} else {
				go func() { _ = p.Acquire(ctx, tc.waiter); close(got); p.Release(tc.waiter) }()
			}
			queued(p, tc.waiter, 1)
			yielded := make(chan error)
			go func() { yielded <- h.Yield(ctx) }()
			if tc.handed {
				<-got // the waiter had the slot, gave it back, and the holder has it again
				if err := <-yielded; err != nil {
					t.Fatal(err)
				}
				if n, other := handedOver(); n != 1 || other != 0 {
					t.Errorf("handed over %d (%d in the other counters), want 1 (0)", n, other)
				}
			} else {
				if err := <-yielded; err != nil {
					t.Fatal(err)
				}
				select {
				case <-got:
					t.Fatal("the waiter had the slot within the holder's slice")
				default:
				}
				if n, other := handedOver(); n != 0 || other != 0 {
					t.Errorf("handed over %d (%d in the other counters), want 0", n, other)
				}
			}
			if !h.Held() {
				t.Error("the holder does not hold its slot after Yield")
			}
			h.Release()
			<-got
		})
	}
}

// TestBlocking: a holder's slot is free while it blocks (a file write)
// and held again after; without a slot the call just runs.
func TestBlocking(t *testing.T) {
	p, h := lowHolder(t)
	ctx := context.Background()
	wantErr := errors.New("disk full")
	err := h.Blocking(ctx, func() error {
		if h.Held() {
			t.Error("Held() during the blocking call")
		}
		// Another may have the slot meanwhile (a pool of one).
		if err := p.Acquire(ctx, High); err != nil {
			t.Fatal(err)
		}
		p.Release(High)
		return wantErr
	})
	if err != wantErr {
		t.Errorf("Blocking = %v, want the call's error", err)
	}
	if !h.Held() {
		t.Error("the slot is not held again after the blocking call")
	}
	h.Release()
	ran := false
	var none *Hold
	if err := none.Blocking(ctx, func() error { ran = true; return nil }); err != nil || !ran {
		t.Errorf("a nil Hold's Blocking = %v, ran %v", err, ran)
	}
	if st := p.Stats(Low); st.Held != 0 || st.OverLimit != 0 {
		t.Errorf("held %d, over the limit %d; want 0, 0", st.Held, st.OverLimit)
	}
}

// TestWithHold: a context carries a Hold to the layers below.
func TestWithHold(t *testing.T) {
	h := New(1).NewHold(High)
	if got := HoldOf(context.Background()); got != nil {
		t.Errorf("HoldOf(Background) = %v", got)
	}
	if got := HoldOf(WithHold(context.Background(), h)); got != h {
		t.Errorf("HoldOf = %p, want %p", got, h)
	}
}

// TestExtraWorkersCountedApart: the slots a task's extra workers
// (Sibling) take or wait for count in ExtraStats, not in Stats, whose
// waits are then the tasks' own; a wait that ends with its context counts
// as given up.
func TestExtraWorkersCountedApart(t *testing.T) {
	tests := []struct {
		name      string
		sibling   bool // the waiter is the first Hold's Sibling
		cancel    bool // its context ends while it waits
		wantMain  Stats
		wantExtra Stats
	}{
		{name: "a task's own wait",
			wantMain: Stats{Acquired: 2, Waited: 1}},
		{name: "an extra worker granted",
			sibling:   true,
			wantMain:  Stats{Acquired: 1},
			wantExtra: Stats{Acquired: 1, Waited: 1}},
		{name: "an extra worker that gives up",
			sibling: true, cancel: true,
			wantMain:  Stats{Acquired: 1},
			wantExtra: Stats{Acquired: 1, Waited: 1, GaveUp: 1}},
		{name: "a task that gives up",
			cancel:   true,
			wantMain: Stats{Acquired: 2, Waited: 1, GaveUp: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := New(1)
			p.maxWait = time.Hour
			bg := context.Background()
			first, err := p.Hold(bg, High)
			if err != nil {
				t.Fatal(err)
			}
			w := p.NewHold(High)
			if tt.sibling {
				w = first.Sibling()
			}
			ctx, cancel := context.WithCancel(bg)
			defer cancel()
			errc := make(chan error)
			go func() { errc <- w.Reacquire(ctx) }()
			queued(p, High, 1)
			if tt.cancel {
				cancel()
			} else {
				first.Release()
			}
			if err := <-errc; (err != nil) != tt.cancel {
				t.Fatalf("Reacquire = %v, cancelled %v", err, tt.cancel)
			}
			w.Release()
			first.Release()
			for _, c := range []struct {
				what string
				got  Stats
				want Stats
			}{{"Stats", p.Stats(High), tt.wantMain}, {"ExtraStats", p.ExtraStats(High), tt.wantExtra}} {
				got := c.got
				if got.Waited > 0 && got.WaitTime <= 0 {
					t.Errorf("%s: %d waits took no time", c.what, got.Waited)
				}
				got.WaitTime = 0
				if got != c.want {
					t.Errorf("%s = %+v, want %+v", c.what, got, c.want)
				}
			}
		})
	}
}

// TestUnits: each stretch a Hold keeps its slot between the points where
// it could hand it over (taking it, Yield, Release) counts as one unit of
// its priority.
func TestUnits(t *testing.T) {
	tests := []struct {
		name   string
		yields int // Yields while holding, nobody waiting
		wantN  int64
	}{
		{name: "taken and given back", yields: 0, wantN: 1},
		{name: "three yields", yields: 3, wantN: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := New(1)
			ctx := context.Background()
			h, err := p.Hold(ctx, Ingest)
			if err != nil {
				t.Fatal(err)
			}
			for range tt.yields {
				if err := h.Yield(ctx); err != nil {
					t.Fatal(err)
				}
			}
			h.Release()
			h.Release() // holds none: no unit
			var n int64
			for _, k := range p.Units(Ingest).Counts {
				n += k
			}
			if n != tt.wantN {
				t.Errorf("%d units, want %d", n, tt.wantN)
			}
			for _, prio := range []Priority{High, Low} {
				if u := p.Units(prio); u != (UnitLengths{}) {
					t.Errorf("units of %v: %+v, want none", prio, u)
				}
			}
		})
	}
}

// TestLowShare: background work holds at most all slots but one (all of a
// pool of one), so that a request and a search find a free P and slot
// when ingest leaves CPU over; background work kept out by that share
// does not count as waiting for the searches' share, nor makes ingest
// queue behind it.
func TestLowShare(t *testing.T) {
	tests := []struct {
		name string
		size int
		held []Priority // taken first, in order
		// waitingLow queues a waiter of background work after held.
		waitingLow bool
		try        []Priority // then taken at once or not
		want       []bool     // whether each of try had a slot at once
	}{
		{name: "background work leaves a slot free", size: 2,
			held: []Priority{Low}, try: []Priority{Low}, want: []bool{false}},
		{name: "ingest takes the slot background work leaves", size: 2,
			held: []Priority{Low}, try: []Priority{Ingest}, want: []bool{true}},
		{name: "a search takes the slot background work leaves", size: 2,
			held: []Priority{Low}, try: []Priority{High}, want: []bool{true}},
		{name: "a pool of one slot", size: 1,
			try: []Priority{Low}, want: []bool{true}},
		{name: "all but one of three", size: 3,
			held: []Priority{Low}, try: []Priority{Low, Low}, want: []bool{true, false}},
		{name: "a search's two workers past background work over its share", size: 3,
			held: []Priority{Low, Low}, waitingLow: true,
			try: []Priority{High}, want: []bool{true}},
		{name: "ingest past background work over its share", size: 2,
			held: []Priority{Low}, waitingLow: true,
			try: []Priority{Ingest}, want: []bool{true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := New(tt.size)
			p.maxWait = time.Hour
			p.behind = 0 // background work is overdue at once
			bg := context.Background()
			for _, prio := range tt.held {
				if err := p.Acquire(bg, prio); err != nil {
					t.Fatal(err)
				}
			}
			lowCtx, stopLow := context.WithCancel(bg)
			lowDone := make(chan struct{})
			if tt.waitingLow {
				go func() {
					defer close(lowDone)
					if p.Acquire(lowCtx, Low) == nil {
						t.Error("background work over its share had a slot")
					}
				}()
				for p.waiting[Low].Load() < 1 {
					select {
					case <-lowDone:
						t.FailNow()
					default:
						runtime.Gosched()
					}
				}
			} else {
				close(lowDone)
			}
			// A context that has ended: Acquire fails unless a slot is
			// free to it at once.
			now, cancel := context.WithCancel(bg)
			cancel()
			for i, prio := range tt.try {
				if got := p.Acquire(now, prio) == nil; got != tt.want[i] {
					t.Errorf("%v (try %d) had a slot at once: %v, want %v", prio, i, got, tt.want[i])
				}
			}
			if p.Waiting(High) {
				t.Error("Waiting(High): a search would give its slot to work that may not have it")
			}
			stopLow()
			<-lowDone
		})
	}
}
