package gcgoal

import (
	"runtime"
	"runtime/debug"
	"testing"
)

const mib = 1 << 20

func TestLimit(t *testing.T) {
	for _, tc := range []struct {
		name                                      string
		live, scan, unused, other, floor, ceiling int64
		want                                      int64
	}{
		{"under the floor: the ceiling, GOGC 100 alone", 40 * mib, 40 * mib, 4 * mib, 10 * mib, 64 * mib, 1024 * mib, 1024 * mib},
		{"at the floor: the ceiling", 64 * mib, 20 * mib, 4 * mib, 10 * mib, 64 * mib, 1024 * mib, 1024 * mib},
		{"little to scan: the floor", 200 * mib, 30 * mib, 4 * mib, 10 * mib, 64 * mib, 1024 * mib, 278 * mib},
		{"more to scan than the floor: the scannable heap", 200 * mib, 100 * mib, 4 * mib, 10 * mib, 64 * mib, 1024 * mib, 314 * mib},
		{"all scannable: GOGC 100", 300 * mib, 300 * mib, 0, 0, 64 * mib, 1024 * mib, 600 * mib},
		{"capped by the ceiling", 200 * mib, 100 * mib, 4 * mib, 10 * mib, 64 * mib, 256 * mib, 256 * mib},
		{"no ceiling", 200 * mib, 100 * mib, 4 * mib, 10 * mib, 64 * mib, 0, 314 * mib},
		{"no floor: the ceiling", 200 * mib, 100 * mib, 4 * mib, 10 * mib, 0, 1024 * mib, 1024 * mib},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Limit(tc.live, tc.scan, tc.unused, tc.other, tc.floor, tc.ceiling); got != tc.want {
				t.Errorf("Limit(%d, %d, %d, %d, %d, %d) = %d MiB, want %d MiB", tc.live/mib, tc.scan/mib, tc.unused/mib, tc.other/mib, tc.floor/mib, tc.ceiling/mib, got/mib, tc.want/mib)
			}
		})
	}
}

// TestTunerFollowsCollections: after collections with a live heap of
// 64 MiB above a 4 MiB floor, the soft limit leaves the floor as headroom
// when the heap holds no pointers (byte slices, as the head's chunks),
// and about as much again when it is all pointers; Stop puts the ceiling
// back.
func TestTunerFollowsCollections(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(before)
	const ceiling = 1 << 40
	tu := Start(4*mib, ceiling)
	// settle collects until a cleanup has set a limit other than last
	// (no timing: a bounded number of collections).
	settle := func(last int64) int64 {
		for i := 0; i < 100 && (i < 5 || tu.Current() == last); i++ {
			runtime.GC()
			runtime.Gosched()
		}
		return tu.Current()
	}
	bytes := make([][]byte, 0, 64)
	for range 64 {
		bytes = append(bytes, make([]byte, mib))
	}
	noScan := settle(0)
	// The runtime's own memory (stacks, metadata, fragmentation) comes on
	// top: tens of MiB at most, far from the 64 MiB GOGC 100 would add.
	if noScan < 68*mib || noScan > 100*mib {
		t.Errorf("limit with 64 MiB of bytes live and a 4 MiB floor = %d MiB, want 68 MiB and the runtime's own", noScan/mib)
	}
	runtime.KeepAlive(bytes)
	bytes = nil
	ptrs := make([][]*byte, 0, 64)
	for range 64 {
		ptrs = append(ptrs, make([]*byte, mib/8))
	}
	scan := settle(noScan)
	if scan < 128*mib || scan > 180*mib {
		t.Errorf("limit with 64 MiB of pointers live and a 4 MiB floor = %d MiB, want 128 MiB and the runtime's own", scan/mib)
	}
	if cur := debug.SetMemoryLimit(-1); cur != scan {
		t.Errorf("runtime's soft limit = %d, tuner set %d", cur, scan)
	}
	tu.Stop()
	if cur := debug.SetMemoryLimit(-1); cur != ceiling {
		t.Errorf("after Stop the soft limit = %d, want the ceiling %d", cur, int64(ceiling))
	}
	runtime.KeepAlive(ptrs)
}
