// Package gcgoal bounds the Go garbage collector's headroom by the store's
// own bounds rather than by the live heap alone.
//
// With GOGC 100 the collector lets the heap grow to twice what it found
// live at its last collection, so every transient the process holds (the
// head at its bound, the blocks of a merge of large parts, requests in
// flight) costs twice its size in resident memory, and the peak grows with
// what the live heap happens to hold at its highest. A soft memory limit
// (runtime/debug.SetMemoryLimit) of 70% of a large host does nothing
// against that. A Tuner sets the soft limit after every collection: while
// the live heap is at most the floor, to the configured maximum
// (memory_limit), so GOGC 100 sets the goal as before; above, to the live
// heap plus a headroom of the floor or the heap's scannable bytes
// (objects holding pointers, which a collection must trace), whichever is
// larger, plus the heap's fragmentation and the runtime's memory outside
// the heap, never above the maximum. The floor is the store's head bound,
// the largest transient the store holds by design.
//
// The headroom follows the scannable heap, not the live heap, because
// that is what a collection's marking costs: the store's large buffers
// (the head's record chunks, blocks read and written, bloom filters,
// zstd tables) hold no pointers and cost a collection next to nothing,
// so the collector runs no more marking per byte allocated than GOGC 100
// over a heap of pointers would, while those buffers are not doubled.
package gcgoal

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
)

// Limit is the soft memory limit for the next cycle, from live (the heap
// the last collection marked live), scan (the scannable part of the heap
// at that collection), unused (the heap's spans' room not holding
// objects: fragmentation, which counts against the limit) and other (the
// runtime's memory outside the heap: stacks, metadata). Up to floor it is
// ceiling (0: none), so that GOGC 100 alone sets the goal, as without a
// tuner; above, the limit leaves a headroom of floor or scan, whichever is
// larger, and is at most ceiling.
func Limit(live, scan, unused, other, floor, ceiling int64) int64 {
	if floor <= 0 || live <= floor {
		return ceiling
	}
	l := live + max(floor, scan) + unused + other
	if ceiling > 0 && l > ceiling {
		l = ceiling
	}
	return l
}

// Tuner updates the soft memory limit after every garbage collection.
type Tuner struct {
	floor, ceiling int64
	mu             sync.Mutex // held by update and Stop
	stopped        atomic.Bool
	samples        []metrics.Sample
	// set is the limit last set, read by tests and Current.
	set atomic.Int64
}

var sampleNames = []string{
	"/gc/heap/live:bytes",
	"/memory/classes/total:bytes",
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/unused:bytes",
	"/memory/classes/heap/free:bytes",
	"/memory/classes/heap/released:bytes",
	"/gc/scan/heap:bytes",
}

// Start sets the soft limit now and after every collection until Stop,
// from floor (the headroom's floor, bytes) and ceiling (the limit is never
// set above it; 0 for none).
func Start(floor, ceiling int64) *Tuner {
	t := &Tuner{floor: floor, ceiling: ceiling, samples: make([]metrics.Sample, len(sampleNames))}
	for i, n := range sampleNames {
		t.samples[i].Name = n
	}
	t.update()
	t.arm()
	return t
}

// Stop stops updating the limit and sets it back to the ceiling (no limit
// when 0). The update already queued, if any, does nothing.
func (t *Tuner) Stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopped.Store(true)
	if t.ceiling > 0 {
		debug.SetMemoryLimit(t.ceiling)
	} else {
		debug.SetMemoryLimit(math.MaxInt64)
	}
}

// Current is the soft limit the tuner set last.
func (t *Tuner) Current() int64 { return t.set.Load() }

// sentinel is garbage as soon as it is made; its cleanup runs after the
// collection that finds it so, and makes the next one. It holds a pointer
// so that it is not batched with other tiny objects, whose cleanups may be
// delayed.
type sentinel struct {
	_ *byte
	_ [16]byte
}

func (t *Tuner) arm() {
	s := &sentinel{}
	runtime.AddCleanup(s, func(t *Tuner) {
		if t.stopped.Load() {
			return
		}
		t.update()
		t.arm()
	}, t)
}

// update reads the runtime's figures and sets the limit. It runs on one
// goroutine at a time: at Start, then from the cleanup chain, one link
// after the other.
func (t *Tuner) update() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped.Load() {
		return
	}
	metrics.Read(t.samples)
	v := func(i int) int64 {
		if t.samples[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return int64(t.samples[i].Value.Uint64())
	}
	live, total, unused, scan := v(0), v(1), v(3), v(6)
	other := total - v(2) - v(3) - v(4) - v(5)
	if live <= 0 || other < 0 {
		return
	}
	l := Limit(live, scan, unused, other, t.floor, t.ceiling)
	if l <= 0 {
		l = math.MaxInt64
	}
	if l != t.set.Load() {
		debug.SetMemoryLimit(l)
		t.set.Store(l)
	}
}
