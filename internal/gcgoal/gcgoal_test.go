package gcgoal

import (
	"runtime"
	"runtime/debug"
	"testing"
)

const mib = 1 << 20

func TestLimit(t *testing.T) {
	for _, tc := range []struct {
		name                                string
		live, unused, other, floor, ceiling int64
		want                                int64
	}{
		{"under the floor: the ceiling, GOGC 100 alone", 40 * mib, 4 * mib, 10 * mib, 64 * mib, 1024 * mib, 1024 * mib},
		{"at the floor: the ceiling", 64 * mib, 4 * mib, 10 * mib, 64 * mib, 1024 * mib, 1024 * mib},
		{"between one and two floors: the floor", 100 * mib, 4 * mib, 10 * mib, 64 * mib, 1024 * mib, 178 * mib},
		{"above two floors: half the live heap", 200 * mib, 4 * mib, 10 * mib, 64 * mib, 1024 * mib, 314 * mib},
		{"capped by the ceiling", 200 * mib, 4 * mib, 10 * mib, 64 * mib, 256 * mib, 256 * mib},
		{"no ceiling", 200 * mib, 4 * mib, 10 * mib, 64 * mib, 0, 314 * mib},
		{"no floor: the ceiling", 200 * mib, 4 * mib, 10 * mib, 0, 1024 * mib, 1024 * mib},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Limit(tc.live, tc.unused, tc.other, tc.floor, tc.ceiling); got != tc.want {
				t.Errorf("Limit(%d, %d, %d, %d, %d) = %d MiB, want %d MiB", tc.live/mib, tc.unused/mib, tc.other/mib, tc.floor/mib, tc.ceiling/mib, got/mib, tc.want/mib)
			}
		})
	}
}

// TestTunerFollowsCollections: after collections with a live heap above
// two floors, the soft limit is the live heap and a half, and Stop puts
// the ceiling back.
func TestTunerFollowsCollections(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(before)
	const ceiling = 1 << 40
	keep := make([][]byte, 0, 64)
	for range 64 {
		keep = append(keep, make([]byte, mib))
	}
	tu := Start(4*mib, ceiling)
	for range 5 {
		runtime.GC()
		runtime.Gosched()
	}
	// Cleanups run on their own goroutine after a collection: wait for one
	// to have set the limit (no timing: a bounded number of collections).
	for i := 0; i < 100 && tu.Current() == 0; i++ {
		runtime.GC()
		runtime.Gosched()
	}
	got := tu.Current()
	if got < 64*mib*3/2 || got > 200*mib {
		t.Errorf("limit after collections with 64 MiB live and a 4 MiB floor = %d MiB, want about 96 MiB and the runtime's own", got/mib)
	}
	if cur := debug.SetMemoryLimit(-1); cur != got {
		t.Errorf("runtime's soft limit = %d, tuner set %d", cur, got)
	}
	tu.Stop()
	if cur := debug.SetMemoryLimit(-1); cur != ceiling {
		t.Errorf("after Stop the soft limit = %d, want the ceiling %d", cur, int64(ceiling))
	}
	runtime.KeepAlive(keep)
}
