package store

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestMergePolicyTier(t *testing.T) {
	mp := mergePolicy{fanIn: 8}
	for _, tc := range []struct {
		size int64
		want int
	}{
		{0, 0}, {tierBase - 1, 0}, {tierBase, 1}, {8*tierBase - 1, 1}, {8 * tierBase, 2},
		{64*tierBase - 1, 2}, {64 * tierBase, 3}, {30 << 30, 5},
	} {
		if got := mp.tier(tc.size); got != tc.want {
			t.Errorf("tier(%d) = %d, want %d", tc.size, got, tc.want)
		}
	}
}

func TestMergePolicyMerges(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	old := now.Add(-time.Hour)
	mb := int64(tierBase)
	// parts builds candidates: sizes in bytes, minTime = their index
	// reversed (so that the last is the oldest), all added at added.
	parts := func(added time.Time, sizes ...int64) []candidate {
		cs := make([]candidate, len(sizes))
		for i, s := range sizes {
			cs[i] = candidate{size: s, minTime: int64(len(sizes) - i), name: fmt.Sprintf("%016x", i), added: added}
		}
		return cs
	}
	repeat := func(n int, size int64) []int64 {
		out := make([]int64, n)
		for i := range out {
			out[i] = size
		}
		return out
	}
	mp := mergePolicy{fanIn: 4, idleAfter: time.Minute, quietAfter: 5 * time.Second}
	for _, tc := range []struct {
		name string
		mp   mergePolicy
		cs   []candidate
		busy bool
		now  time.Time
		last time.Time // the store's last record, all flushed (mergePolicy.idle)
		want [][]int
	}{
		{name: "a tier one short of the fan-in waits", mp: mp, cs: parts(now, 3*mb, 2*mb, 5*mb), now: now},
		{name: "a full tier is merged, oldest first", mp: mp, cs: parts(now, 100, 3*mb, 2*mb, 1*mb, 3*mb+mb/2, 6*mb), now: now,
			want: [][]int{{4, 3, 2, 1}}},
		{name: "every full tier, lowest first", mp: mp, cs: parts(now, 10*mb, 1, 2, 3, 9*mb, 8*mb, 4, 11*mb), now: now,
			want: [][]int{{6, 3, 2, 1}, {7, 5, 4, 0}}},
		{name: "at most maxMergeFanIn at once", mp: mp, cs: parts(now, repeat(20, 1000)...), now: now,
			want: [][]int{{19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4}}},
		{name: "idle: the rest at least the largest", mp: mp, cs: parts(old, 3*mb, 2*mb, 1*mb), now: now,
			want: [][]int{{2, 1, 0}}},
		{name: "idle: the rest more than the largest, which stays", mp: mp, cs: parts(old, 200*mb, 100*mb, 100*mb, 50*mb), now: now,
			want: [][]int{{3, 1, 2}}},
		{name: "idle: the rest more than the largest, but merged alone not doubling theirs", mp: mp, cs: parts(old, 200*mb, 150*mb, 50*mb, 50*mb), now: now,
			want: [][]int{{2, 3, 1, 0}}},
		{name: "idle: the rest more than a largest below the big lane's size", mp: mp, cs: parts(old, 4*mb, 2*mb, 2*mb, 1*mb), now: now,
			want: [][]int{{3, 1, 2, 0}}},
		{name: "idle: one part much larger waits", mp: mp, cs: parts(old, 30*mb, 2*mb, 1*mb), now: now},
		{name: "idle: the small parts beside a much larger one", mp: mp, cs: parts(old, 30*mb, 2*mb, 1*mb, 1*mb), now: now,
			want: [][]int{{2, 3, 1}}},
		{name: "not idle yet", mp: mp, cs: parts(now.Add(-time.Second), 3*mb, 2*mb, 1*mb), now: now},
		{name: "idle: the store took no record for quietAfter", mp: mp, cs: parts(now.Add(-5*time.Second), 3*mb, 2*mb, 1*mb),
			now: now, last: now.Add(-6 * time.Second), want: [][]int{{2, 1, 0}}},
		{name: "the store took a record less than quietAfter ago", mp: mp, cs: parts(now.Add(-3*time.Second), 3*mb, 2*mb, 1*mb),
			now: now, last: now.Add(-4 * time.Second)},
		{name: "quiet, but quiet turned off", mp: mergePolicy{fanIn: 4, idleAfter: time.Minute, quietAfter: -1},
			cs: parts(now.Add(-5*time.Second), 3*mb, 2*mb, 1*mb), now: now, last: now.Add(-6 * time.Second)},
		{name: "quiet, but final merge turned off", mp: mergePolicy{fanIn: 4, idleAfter: -1, quietAfter: 5 * time.Second},
			cs: parts(now.Add(-5*time.Second), 3*mb, 2*mb, 1*mb), now: now, last: now.Add(-6 * time.Second)},
		{name: "quiet, but a merge reads the partition", mp: mp, cs: parts(now.Add(-5*time.Second), 3*mb, 2*mb, 1*mb), busy: true,
			now: now, last: now.Add(-6 * time.Second)},
		{name: "quiet, a full tier first", mp: mp, cs: parts(now.Add(-5*time.Second), 3*mb, 2*mb, 1*mb, 2*mb, 30*mb),
			now: now, last: now.Add(-6 * time.Second), want: [][]int{{3, 2, 1, 0}}},
		{name: "idle once (pending count)", mp: mp, cs: parts(now, 3*mb, 2*mb, 1*mb), want: [][]int{{2, 1, 0}}},
		{name: "not while a merge reads the partition", mp: mp, cs: parts(old, 3*mb, 2*mb, 1*mb), busy: true, now: now},
		{name: "final merge turned off", mp: mergePolicy{fanIn: 4, idleAfter: -1}, cs: parts(old, 3*mb, 2*mb, 1*mb), now: now},
		{name: "idle with more parts than one merge takes: the smallest", mp: mergePolicy{fanIn: 100, idleAfter: time.Minute},
			cs: parts(old, append([]int64{100 * mb}, repeat(17, 10*mb)...)...), now: now,
			want: [][]int{{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got [][]int
			for i, m := range tc.mp.merges(tc.cs, tc.busy, tc.now, tc.last) {
				got = append(got, m.inputs)
				if m.final != (strings.HasPrefix(tc.name, "idle") && i == 0) {
					t.Errorf("merge %v final = %v", m.inputs, m.final)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("merges = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestMergePolicyContinuousIngest plays a day of continuous ingest through
// the policy, merges taking no time: 17,280 flushes (one every 5 s) of
// 0.5–3.5 MiB. After every merge round the partition holds no more than
// the policy's bound of parts, and no byte was rewritten more often than
// the tiers it could climb.
func TestMergePolicyContinuousIngest(t *testing.T) {
	for _, fanIn := range []int{4, 8, 16} {
		t.Run(fmt.Sprintf("fan-in %d", fanIn), func(t *testing.T) {
			sim := newPolicySim(mergePolicy{fanIn: fanIn, idleAfter: -1})
			rng := rand.New(rand.NewPCG(1, uint64(fanIn)))
			maxParts := 0
			for i := range 17280 {
				sim.flush(int64(tierBase/2 + rng.IntN(3*tierBase)))
				sim.settle(time.Unix(int64(i)*5, 0))
				maxParts = max(maxParts, len(sim.parts))
				if bound := sim.mp.partsBound(sim.flushed); len(sim.parts) > bound {
					t.Fatalf("after flush %d: %d parts, over the bound of %d for %d bytes", i, len(sim.parts), bound, sim.flushed)
				}
			}
			wa := float64(sim.flushed+sim.merged) / float64(sim.flushed)
			limit := 2 + math.Log(float64(sim.flushed)/tierBase)/math.Log(float64(fanIn))
			t.Logf("fan-in %d: %.1f GiB flushed, write amplification %.2f (bound %.2f), most rewrites of one flush %d, parts at most %d, at the end %d",
				fanIn, float64(sim.flushed)/(1<<30), wa, limit, sim.maxRewrites(), maxParts, len(sim.parts))
			if wa > limit {
				t.Errorf("write amplification %.2f over its bound %.2f", wa, limit)
			}
			if r := sim.maxRewrites(); float64(r) > limit-1 {
				t.Errorf("a flushed byte was rewritten %d times, over the %.2f tiers it can climb", r, limit-1)
			}
		})
	}
}

// TestMergePolicyFinalMerge: a partition that stops receiving parts ends
// with a few parts, each larger than all smaller ones together.
func TestMergePolicyFinalMerge(t *testing.T) {
	for _, flushes := range []int{7, 100, 5000} {
		sim := newPolicySim(mergePolicy{fanIn: 8, idleAfter: time.Minute})
		for i := range flushes {
			sim.flush(2 * tierBase)
			sim.settle(time.Unix(int64(i)*5, 0))
		}
		tiered := len(sim.parts)
		merged := sim.merged
		sim.settle(time.Unix(int64(flushes)*5+3600, 0))
		sizes := make([]int64, len(sim.parts))
		for i, p := range sim.parts {
			sizes[i] = p.c.size
		}
		slices.Sort(sizes)
		var smaller int64
		for _, size := range sizes {
			if smaller >= size {
				t.Errorf("%d flushes: idle parts %v: %d bytes not merged beside smaller ones of %d bytes", flushes, sizes, size, smaller)
			}
			smaller += size
		}
		t.Logf("%d flushes: %d parts while receiving, %d once idle; the final merges rewrote %.2f of the bytes",
			flushes, tiered, len(sizes), float64(sim.merged-merged)/float64(sim.flushed))
	}
}

// policySim is a partition driven by the policy alone: parts are sizes,
// and each remembers the flushes it holds, to count their rewrites.
type policySim struct {
	mp              mergePolicy
	parts           []simPart
	rewrites        []int // per flush
	flushed, merged int64
	now             time.Time
}

type simPart struct {
	c       candidate
	flushes []int
}

func newPolicySim(mp mergePolicy) *policySim { return &policySim{mp: mp} }

func (s *policySim) flush(size int64) {
	n := len(s.rewrites)
	s.rewrites = append(s.rewrites, 0)
	s.parts = append(s.parts, simPart{c: candidate{size: size, minTime: int64(n), name: fmt.Sprintf("%016x", n), added: s.now}, flushes: []int{n}})
	s.flushed += size
}

// settle runs merges until none is due at now.
func (s *policySim) settle(now time.Time) {
	s.now = now
	for {
		cs := make([]candidate, len(s.parts))
		for i, p := range s.parts {
			cs[i] = p.c
		}
		ms := s.mp.merges(cs, false, now, time.Time{})
		if len(ms) == 0 {
			return
		}
		m := ms[0].inputs
		out := simPart{c: candidate{minTime: math.MaxInt64, name: fmt.Sprintf("m%015x", s.merged), added: now}}
		for _, i := range m {
			p := s.parts[i]
			out.c.size += p.c.size
			out.c.minTime = min(out.c.minTime, p.c.minTime)
			out.flushes = append(out.flushes, p.flushes...)
		}
		for _, f := range out.flushes {
			s.rewrites[f]++
		}
		s.merged += out.c.size
		slices.Sort(m)
		for k := len(m) - 1; k >= 0; k-- {
			s.parts = slices.Delete(s.parts, m[k], m[k]+1)
		}
		s.parts = append(s.parts, out)
	}
}

func (s *policySim) maxRewrites() int { return slices.Max(s.rewrites) }
