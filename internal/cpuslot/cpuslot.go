// Package cpuslot is admission control for CPU: a process runs its
// CPU-heavy work (searches, ingest decoding, a flush's part writers,
// merges) while holding one of a fixed number of slots, as many as
// GOMAXPROCS, and the slots go to waiting searches first, then to waiting
// ingest, then to background work.
//
// Go's scheduler has no priorities: a runnable goroutine waits in line
// behind every other runnable one, and a CPU-bound goroutine runs until it
// is preempted (10 ms). Under ingest a sub-millisecond search then waits
// tens of milliseconds for a P. With the slots, work that has none is
// parked, not runnable, so the run queue holds about as many goroutines as
// there are Ps; ingest and background holders work in bounded units (a
// read of a request body, a few hundred records of a flush or a merge)
// and at each unit's end call Yield, one atomic load when no search
// waits, which hands their slot to a waiting search. A search then waits at most about one
// unit for a CPU.
//
// Searches do not starve the rest: while ingest or background work waits,
// searches together hold at most all slots but one (with two slots or
// more), and a search's extra workers give back what they hold above that
// at their next unit. Ingest keeps a CPU under a stream of heavy queries,
// as Elasticsearch's separate search and write thread pools keep it, and
// a search still gets a CPU within about one unit.
//
// Background work holds at most all slots but one (with two slots or
// more; lowShare): while ingest leaves CPU over, a P is then idle, and
// Go's scheduler reads an arriving request at once (a thread waits in the
// network poller) and the search finds a free slot. With every P held by
// background work, the runtime looked at the network only at sysmon's
// looks, every 10 ms while all Ps are busy, and the request and each
// search waited for a holder's unit. Background work kept out by that
// share does not count as waiting for the searches' share, nor goes
// before ingest (MaxBehind).
//
// Within a priority the slots go round: a holder that has had its slot for
// Slice hands it to a waiter of its own priority at its next unit's end,
// so that a merge does not keep a flush waiting for its whole run, nor a
// heavy search a small one. Background work hands its slot to waiting
// ingest after Slice too, and a free slot goes to waiting ingest before
// waiting background work unless that has waited MaxBehind: ingest, whose
// units are short (it gives its slot back at each read of a request
// body), no longer queues behind every merge's 10 ms turn, and background
// work still gets a turn (Slice) in every MaxBehind while ingest keeps
// the slots busy.
//
// The counters (Stats) are by priority; a task's extra workers (Sibling)
// count apart (ExtraStats: their slots, waits, hand-overs and admissions
// over the limit), since they wait while their task goes on,
// often for its whole run, and their waits say nothing of the task's.
// Units records how long holders kept their slot between two points where
// they could have handed it over.
//
// The rules for holders: hold a slot only while using the CPU, never while
// waiting for something (a lock held for long, I/O from a client or a
// disk, another goroutine's work: Hold.Blocking gives the slot back around
// such a call); never acquire a second slot while holding one (a caller
// lends its Hold to the layers below through the context, WithHold). As a
// guard against holders that break them (a slow client an answer is
// written to, a lock) a waiter is admitted above the limit once no slot
// was given back for MaxWait, so the slots can delay work but never
// deadlock it.
package cpuslot

import (
	"context"
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Priority orders the waiters: a free slot goes to the longest-waiting
// waiter of the highest priority (but see MaxBehind).
type Priority uint8

const (
	// Low is background work: a flush's part writers, merges.
	Low Priority = iota
	// Ingest is the work a client waits for when it writes: request
	// decoding, a batch's WAL encoding.
	Ingest
	// High is searches.
	High
	numPriorities
)

func (p Priority) String() string {
	switch p {
	case High:
		return "high"
	case Ingest:
		return "ingest"
	}
	return "low"
}

// MaxWait is how long the slots may all stay held, none given back, while
// a waiter waits, before that waiter is admitted above the limit (see the
// package's comment). Holders hand over or give back a slot within about
// a millisecond of work, so only holders that all block stop the slots
// that long; a waiter that merely queues behind many others is not
// admitted above the limit.
const MaxWait = 100 * time.Millisecond

// Slice is how long a holder keeps its slot, yielding at its units' ends,
// while a waiter of its own priority is in line: then Yield hands the slot
// over and the holder queues behind that waiter. Without it a merge or a
// flush writer kept its slot for its whole run (seconds) while ingest
// waited, until the guard admitted the waiter above the limit (MaxWait),
// and a heavy search kept the searches' slot while a small one waited. It
// is Go's own time slice.
const Slice = 10 * time.Millisecond

// MaxBehind is how long a waiter of background work (Low) waits behind
// waiting ingest at most: then a free slot goes to it first (within its
// share, all slots but one), for a turn of Slice. While ingest keeps
// every slot busy, background work then gets about Slice in every
// MaxBehind + Slice (a fifth), so that flushes and merges go on; while
// ingest leaves CPU over, they get all of it but one slot.
const MaxBehind = 4 * Slice

// A Pool hands out its slots. A nil *Pool admits everything at once.
type Pool struct {
	size int
	mu   sync.Mutex
	held int // may pass size by the over-admitted
	// heldHigh is how many of held are searches' (changed under mu).
	heldHigh atomic.Int32
	// heldLow is how many of held are background work's (under mu).
	heldLow atomic.Int32
	queue   [numPriorities][]*waiter // FIFO per priority
	waiting [numPriorities]atomic.Int32
	stats   [numPriorities]counters
	// extra counts the acquisitions of a task's extra workers (Sibling)
	// apart: theirs wait while the task goes on without them, often for
	// its whole run, and say nothing of how long the task waited.
	extra [numPriorities]counters
	// units are the lengths of the holders' units (unitHist).
	units   [numPriorities]unitHist
	maxWait time.Duration
	slice   time.Duration
	behind  time.Duration
	// progress is when a slot was last given back (Unix ns).
	progress atomic.Int64
}

type counters struct {
	acquired atomic.Int64 // acquisitions, handed-over ones included
	waited   atomic.Int64 // of which waited for a slot
	waitNs   atomic.Int64 // total time waited
	over     atomic.Int64 // admitted above the limit after maxWait
	yielded  atomic.Int64 // slots handed over by Yield
	gaveUp   atomic.Int64 // waits that ended with ctx, no slot taken
}

type waiter struct {
	ready   chan struct{} // closed when granted
	granted bool          // under Pool.mu
	since   time.Time     // when it got in line
}

// New returns a pool of n slots (GOMAXPROCS when n is not positive).
func New(n int) *Pool {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	return &Pool{size: n, maxWait: MaxWait, slice: Slice, behind: MaxBehind}
}

var shared atomic.Pointer[Pool]

// monoEpoch is where monoNow counts from.
var monoEpoch = time.Now()

// monoNow is the monotonic clock in nanoseconds since monoEpoch: what a
// holder's slice and units are timed with, at every unit's end (Yield).
// It reads one clock where time.Now reads two (the wall clock too).
func monoNow() int64 { return int64(time.Since(monoEpoch)) }

func init() { shared.Store(New(0)) }

// Shared returns the process's pool, sized by GOMAXPROCS at start; nil
// (every caller admitted at once) once SetShared(nil) turned it off.
func Shared() *Pool { return shared.Load() }

// SetShared replaces the process's pool; nil turns admission off. The
// server sets it once at start (query.cpu_priority), before any work: a
// slot taken from one pool must be given back to the same one, which
// Hold and the call sites that keep the pool they acquired from ensure.
func SetShared(p *Pool) { shared.Store(p) }

// Size returns the number of slots.
func (p *Pool) Size() int {
	if p == nil {
		return 0
	}
	return p.size
}

// Acquire takes a slot of priority prio, waiting while none is free, a
// waiter of higher priority (or the same, having come first) is in line,
// or, for a search, while searches hold their share and other work waits.
// It fails only when ctx ends first; then no slot is held.
func (p *Pool) Acquire(ctx context.Context, prio Priority) error {
	if p == nil {
		return nil
	}
	return p.acquire(ctx, prio, &p.stats[prio])
}

// acquire is Acquire, counted in st.
func (p *Pool) acquire(ctx context.Context, prio Priority, st *counters) error {
	st.acquired.Add(1)
	p.mu.Lock()
	if p.held < p.size && p.noneAheadLocked(prio) && p.mayGrantLocked(prio) {
		p.takeLocked(prio)
		p.mu.Unlock()
		return nil
	}
	start := time.Now()
	w := &waiter{ready: make(chan struct{}), since: start}
	p.queue[prio] = append(p.queue[prio], w)
	p.waiting[prio].Add(1)
	p.mu.Unlock()

	defer func() {
		st.waited.Add(1)
		st.waitNs.Add(int64(time.Since(start)))
	}()
	t := time.NewTimer(p.maxWait)
	defer t.Stop()
	for {
		select {
		case <-w.ready:
			return nil
		case <-t.C:
			// Over the limit only when no slot changed hands for
			// maxWait: the holders are stuck, not just busy.
			if idle := time.Duration(time.Now().UnixNano() - p.progress.Load()); idle < p.maxWait {
				t.Reset(p.maxWait - idle)
				continue
			}
			if p.dequeue(prio, w, true) {
				st.over.Add(1)
			}
			return nil
		case <-ctx.Done():
			st.gaveUp.Add(1)
			if p.dequeue(prio, w, false) {
				return ctx.Err()
			}
			// Granted meanwhile: the slot is held; give it back.
			p.Release(prio)
			return ctx.Err()
		}
	}
}

// noneAheadLocked reports whether no waiter of priority prio or above is
// in line, nor background work that has waited MaxBehind.
func (p *Pool) noneAheadLocked(prio Priority) bool {
	for q := prio; q < numPriorities; q++ {
		if len(p.queue[q]) > 0 {
			return false
		}
	}
	return prio != Ingest || !p.lowOverdueLocked(time.Now())
}

// lowOverdueLocked reports whether the first waiter of background work
// has waited MaxBehind, so that it goes before waiting ingest.
func (p *Pool) lowOverdueLocked(now time.Time) bool {
	line := p.queue[Low]
	return len(line) > 0 && p.mayGrantLocked(Low) && now.Sub(line[0].since) >= p.behind
}

// dequeue takes w out of its line unless it was granted meanwhile; with
// over, w is then admitted above the limit. It reports whether w was still
// waiting.
func (p *Pool) dequeue(prio Priority, w *waiter, over bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if w.granted {
		return false
	}
	q := p.queue[prio]
	for i, x := range q {
		if x == w {
			copy(q[i:], q[i+1:])
			q[len(q)-1] = nil
			p.queue[prio] = q[:len(q)-1]
			break
		}
	}
	p.waiting[prio].Add(-1)
	if over {
		p.takeLocked(prio)
	}
	// A waiter that leaves may unblock lower priorities behind it.
	p.grantLocked()
	return true
}

// Release gives back a slot of priority prio taken by Acquire.
func (p *Pool) Release(prio Priority) {
	if p == nil {
		return
	}
	p.progress.Store(time.Now().UnixNano())
	p.mu.Lock()
	p.held--
	switch prio {
	case High:
		p.heldHigh.Add(-1)
	case Low:
		p.heldLow.Add(-1)
	}
	p.grantLocked()
	p.mu.Unlock()
}

// takeLocked counts a slot taken by a waiter of priority prio.
func (p *Pool) takeLocked(prio Priority) {
	p.held++
	switch prio {
	case High:
		p.heldHigh.Add(1)
	case Low:
		p.heldLow.Add(1)
	}
}

// othersWaiting reports whether ingest waits, or background work that
// may have a slot (lowShare).
func (p *Pool) othersWaiting() bool {
	return p.waiting[Ingest].Load() > 0 || p.waiting[Low].Load() > 0 && p.heldLow.Load() < p.lowShare()
}

// lowShare is the most slots background work may hold: all but one (in a
// pool of one slot, that one), so that a P is left for a request to be
// read on and a search to run on when ingest leaves CPU over.
func (p *Pool) lowShare() int32 { return int32(max(1, p.size-1)) }

// searchShare is the most slots searches may hold while other work waits:
// all but one, so that ingest is not starved by a stream of searches; all
// of them in a pool of one slot.
func (p *Pool) searchShare() int32 { return int32(max(1, p.size-1)) }

// mayGrantLocked reports whether a free slot may go to priority prio now:
// a search may not take the slot kept for waiting ingest and background
// work (searchShare).
func (p *Pool) mayGrantLocked(prio Priority) bool {
	switch prio {
	case High:
		return !p.othersWaiting() || p.heldHigh.Load() < p.searchShare()
	case Low:
		return p.heldLow.Load() < p.lowShare()
	}
	return true
}

// grantLocked hands free slots to the waiters in order.
func (p *Pool) grantLocked() {
	for p.held < p.size {
		prio, w := p.popLocked()
		if w == nil {
			return
		}
		p.takeLocked(prio)
		w.granted = true
		close(w.ready)
	}
}

// popLocked takes the next waiter to grant: the longest-waiting of the
// highest priority that mayGrantLocked allows, background work before
// ingest once it has waited MaxBehind.
func (p *Pool) popLocked() (Priority, *waiter) {
	order := [numPriorities]Priority{High, Ingest, Low}
	if len(p.queue[Ingest]) > 0 && p.lowOverdueLocked(time.Now()) {
		order = [numPriorities]Priority{High, Low, Ingest}
	}
	for _, prio := range order {
		if line := p.queue[prio]; len(line) > 0 && p.mayGrantLocked(prio) {
			w := line[0]
			line[0] = nil
			p.queue[prio] = line[1:]
			p.waiting[prio].Add(-1)
			return prio, w
		}
	}
	return 0, nil
}

// Waiting reports whether a waiter is in line that a slot given back by a
// holder of priority prio would go to: a few atomic loads, for holders to
// call often. For a holder of Low or Ingest, a search that may have it;
// for a holder of High, ingest or background work waiting while searches
// hold more than their share (searchShare), so that a search's extra
// worker gives its slot back. (Background work hands its slot to waiting
// ingest after Slice: see Hold.Yield.)
func (p *Pool) Waiting(prio Priority) bool {
	if p == nil {
		return false
	}
	if prio == High {
		return p.othersWaiting() && p.heldHigh.Load() > p.searchShare()
	}
	return p.waiting[High].Load() > 0 &&
		(!p.othersWaiting() || p.heldHigh.Load() < p.searchShare())
}

// unitHist counts the units of work holders of one priority did between
// two points where a waiter could have had their slot (taking it or a
// Yield, and the next Yield or giving it back), by length: bucket i
// holds those under 2^i µs (the last, the rest). A search waits for a
// holder's slot about as long as the holder's unit.
type unitHist struct {
	n     [unitBuckets]atomic.Int64
	sumNs atomic.Int64
}

const unitBuckets = 16 // the last one from 2^14 µs (16 ms) up

func (u *unitHist) add(ns int64) {
	i := bits.Len64(uint64(max(ns, 0)) / 1000)
	u.n[min(i, unitBuckets-1)].Add(1)
	u.sumNs.Add(ns)
}

// UnitLengths are the lengths of a priority's units of work: Counts[i]
// of them under 2^i µs and at least 2^(i-1) (the last: all the longer
// ones), and their sum.
type UnitLengths struct {
	Counts [unitBuckets]int64
	Sum    time.Duration
}

// UnitUpper returns the upper bound of UnitLengths.Counts[i]; the last
// bucket's is infinite (0 here).
func UnitUpper(i int) time.Duration {
	if i >= unitBuckets-1 {
		return 0
	}
	return time.Duration(1<<i) * time.Microsecond
}

// Units returns the lengths of prio's units of work so far.
func (p *Pool) Units(prio Priority) UnitLengths {
	var u UnitLengths
	if p == nil {
		return u
	}
	for i := range u.Counts {
		u.Counts[i] = p.units[prio].n[i].Load()
	}
	u.Sum = time.Duration(p.units[prio].sumNs.Load())
	return u
}

// Stats are a priority's counters since the pool was made.
type Stats struct {
	Acquired   int64         // slots taken, yields' re-acquisitions included
	Waited     int64         // of which had to wait
	WaitTime   time.Duration // total time waited
	GaveUp     int64         // of the waits, those that ended with their context
	OverLimit  int64         // admitted above the limit after MaxWait
	HandedOver int64         // slots handed over by Yield (see Waiting, Slice)
	Waiting    int64         // in line now
	Held       int64         // slots held now, all priorities together
}

// Stats returns prio's counters, those of extra workers (ExtraStats) left
// out.
func (p *Pool) Stats(prio Priority) Stats {
	if p == nil {
		return Stats{}
	}
	return p.statsOf(prio, &p.stats[prio])
}

// ExtraStats returns the counters of prio's extra workers (Hold.Sibling):
// the slots a task's second and later goroutines took or waited for while
// the task went on. Waiting and Held are the pool's, as in Stats.
func (p *Pool) ExtraStats(prio Priority) Stats {
	if p == nil {
		return Stats{}
	}
	return p.statsOf(prio, &p.extra[prio])
}

func (p *Pool) statsOf(prio Priority, st *counters) Stats {
	p.mu.Lock()
	held := p.held
	p.mu.Unlock()
	return Stats{
		Acquired:   st.acquired.Load(),
		Waited:     st.waited.Load(),
		WaitTime:   time.Duration(st.waitNs.Load()),
		GaveUp:     st.gaveUp.Load(),
		OverLimit:  st.over.Load(),
		HandedOver: st.yielded.Load(),
		Waiting:    int64(p.waiting[prio].Load()),
		Held:       int64(held),
	}
}

// A Hold is one goroutine's slot, given back around the waits of a long
// piece of work and taken again after them. It is not safe for concurrent
// use.
type Hold struct {
	p    *Pool
	prio Priority
	held bool
	// since is when the slot was taken (monoNow), for Slice.
	since int64
	// unit is when h's current unit began: the slot taken, or kept at
	// a Yield (monoNow).
	unit int64
	// team counts the Holds of h's team (Sibling) waiting for a slot:
	// a holder's turn goes to others' waiters, not to its own team's.
	team *atomic.Int32
	// extra is set on a Sibling: its acquisitions count in Pool.extra.
	extra bool
}

// Hold acquires a slot of priority prio and returns it as a Hold.
func (p *Pool) Hold(ctx context.Context, prio Priority) (*Hold, error) {
	h := p.NewHold(prio)
	return h, h.Reacquire(ctx)
}

// NewHold returns a Hold of priority prio that holds no slot yet.
func (p *Pool) NewHold(prio Priority) *Hold { return &Hold{p: p, prio: prio} }

// Sibling returns a Hold of h's pool and priority, holding no slot yet,
// for another goroutine working on h's task (a search's second worker).
// The slice's turns are between tasks: after Slice h and its siblings
// hand their slot to a waiter of another task only, never to each other,
// which would only pass the task's own work from one goroutine to another
// and leave the other tasks waiting as before. Call it before the
// siblings start: a Hold is not safe for concurrent use.
func (h *Hold) Sibling() *Hold {
	if h.team == nil {
		h.team = new(atomic.Int32)
	}
	return &Hold{p: h.p, prio: h.prio, team: h.team, extra: true}
}

// Held reports whether h holds its slot.
func (h *Hold) Held() bool { return h != nil && h.held }

// Priority returns h's priority.
func (h *Hold) Priority() Priority { return h.prio }

// Release gives the slot back if h holds it; a nil h holds none.
func (h *Hold) Release() {
	if h != nil && h.held {
		h.held = false
		if h.p != nil {
			h.p.units[h.prio].add(monoNow() - h.unit)
		}
		h.p.Release(h.prio)
	}
}

// Reacquire takes the slot again if h does not hold it.
func (h *Hold) Reacquire(ctx context.Context) error {
	if h.held {
		return nil
	}
	if h.team != nil {
		// In line for the team, whose holders keep their slot for it.
		h.team.Add(1)
		defer h.team.Add(-1)
	}
	if err := h.acquire(ctx); err != nil {
		return err
	}
	h.held = true
	if h.p != nil {
		h.since = monoNow()
		h.unit = h.since
	}
	return nil
}

// acquire takes a slot of h's priority, counted as an extra worker's when
// h is a Sibling.
func (h *Hold) acquire(ctx context.Context) error {
	if h.p == nil {
		return nil
	}
	return h.p.acquire(ctx, h.prio, h.counters())
}

// counters are where h's acquisitions and hand-overs count: its
// priority's, or its extra workers' when h is a Sibling.
func (h *Hold) counters() *counters {
	if h.extra {
		return &h.p.extra[h.prio]
	}
	return &h.p.stats[h.prio]
}

// sliceOver reports whether h has held its slot for the pool's Slice
// while a waiter of its priority is in line whom the slot may go to, one
// not of h's own team (Sibling), or, for background work, waiting ingest.
func (h *Hold) sliceOver() bool {
	p := h.p
	others := p.waiting[h.prio].Load()
	if h.prio == Low {
		others += p.waiting[Ingest].Load()
	}
	if h.team != nil {
		others -= h.team.Load()
	}
	if others <= 0 || monoNow()-h.since < int64(p.slice) {
		return false
	}
	// A search's slot goes to the waiting search only while searches are
	// within their share (above it, Waiting hands it to ingest).
	return h.prio != High || !p.othersWaiting() || p.heldHigh.Load() <= p.searchShare()
}

// Blocking runs fn, a call that blocks (a file write or an fsync, a read
// from disk), without h's slot: it gives the slot back before and takes it
// again after, so that the others do not wait for a CPU that nobody uses
// (and the guard does not admit them over the limit). When h holds no
// slot (or is nil), fn just runs. It fails only when ctx ends while it
// waits for the slot again, with fn's error first.
func (h *Hold) Blocking(ctx context.Context, fn func() error) error {
	if !h.Held() {
		return fn()
	}
	h.Release()
	err := fn()
	if rerr := h.Reacquire(ctx); err == nil {
		err = rerr
	}
	return err
}

type holdKey struct{}

// WithHold returns a context that carries h, so that the work a holder
// calls through layers that take slots of their own (a query engine
// calling the store's search) runs on h's slot instead of taking a
// second one, which a holder must never do.
func WithHold(ctx context.Context, h *Hold) context.Context {
	return context.WithValue(ctx, holdKey{}, h)
}

// HoldOf returns the Hold ctx carries (WithHold), nil when none.
func HoldOf(ctx context.Context) *Hold {
	h, _ := ctx.Value(holdKey{}).(*Hold)
	return h
}

// Yield is called by a holder at the end of a unit of work. When a waiter
// is in line that the slot would go to (Pool.Waiting), or one of the
// holder's own priority (for background work, or ingest) once the holder
// has had the slot for Slice, it hands the slot over and waits for one
// again. Otherwise a holder other than a search lets the goroutines that are runnable run first
// (runtime.Gosched): a search whose goroutine was just woken (its request
// arrived) has not reached the pool yet, and would otherwise wait for the
// holder's preemption. With the work that holds no slot parked, that run
// queue is short. It takes the slot if h does not hold it; it fails only
// when ctx ends while it waits, holding no slot then.
func (h *Hold) Yield(ctx context.Context) error {
	if h.p == nil {
		h.held = true
		return nil
	}
	if h.held {
		if h.p.Waiting(h.prio) || h.sliceOver() {
			h.Release()
			h.counters().yielded.Add(1)
		} else {
			// The slot is kept: the next unit begins.
			now := monoNow()
			h.p.units[h.prio].add(now - h.unit)
			h.unit = now
		}
	}
	if err := h.Reacquire(ctx); err != nil {
		return err
	}
	if h.prio != High {
		// Not a search's: the goroutines in the run queue are mostly
		// ingest and background holders, whom a search's worker would
		// then wait behind for a P.
		runtime.Gosched()
	}
	return nil
}
