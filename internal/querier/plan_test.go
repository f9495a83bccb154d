package querier

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/query"
	"github.com/sluice-log/sluice/internal/record"
)

// doneAt maps each partition to offset done.
func doneAt(done int64, ps ...int32) map[Partition]int64 {
	m := map[Partition]int64{}
	for _, p := range parts(ps...) {
		m[p] = done
	}
	return m
}

func parts(ps ...int32) []Partition {
	out := make([]Partition, len(ps))
	for i, p := range ps {
		out[i] = Partition{"logs", p}
	}
	return out
}

// planText renders a plan as "url:all" or "url:0,2" per ask, sorted, then
// "-url" per skipped indexer.
func planText(asks []ask, skips []skip) string {
	var out []string
	for _, a := range asks {
		if a.all {
			out = append(out, a.url+":all")
			continue
		}
		var ps []string
		for _, p := range a.parts {
			ps = append(ps, fmt.Sprint(p.Partition))
		}
		out = append(out, a.url+":"+strings.Join(ps, ","))
	}
	slices.Sort(out)
	for _, s := range skips {
		out = append(out, "-"+s.url)
	}
	return strings.Join(out, " ")
}

func TestMakePlan(t *testing.T) {
	// Two groups: a1 and a2 share the topic (partition 2's history is
	// split between them after a rebalance), b1 holds all of it.
	a1 := member{url: "a1", known: true, up: true, group: "A", holds: parts(0, 1, 2), done: doneAt(1000, 0, 1, 2)}
	a2 := member{url: "a2", known: true, up: true, group: "A", holds: parts(2, 3), done: doneAt(1000, 2, 3)}
	b1 := member{url: "b1", known: true, up: true, group: "B", holds: parts(0, 1, 2, 3), done: doneAt(1000, 0, 1, 2, 3)}
	dead := func(m member) member { m.up, m.err = false, "connection refused"; return m }
	// behind is m with partition p stored up to lag offsets less.
	behind := func(m member, p int32, lag int64) member {
		m.done = maps.Clone(m.done)
		m.done[parts(p)[0]] -= lag
		return m
	}
	tests := []struct {
		name    string
		members []member
		down    []string
		rot     int
		want    string
	}{
		{"all up: first group whole", []member{a1, a2, b1}, nil, 0, "a1:all a2:all"},
		{"all up: the next query the other group", []member{a1, a2, b1}, nil, 1, "b1:all"},
		{"a1 down: group B whole", []member{dead(a1), a2, b1}, nil, 0, "b1:all"},
		{"b1 down: group A whole", []member{a1, a2, dead(b1)}, nil, 1, "a1:all a2:all"},
		{"a2 failed during the query", []member{a1, a2, b1}, []string{"a2"}, 0, "b1:all"},
		{"a2 and b1 down: what a1 alone holds, the rest partial", []member{a1, dead(a2), dead(b1)}, nil, 0, "a1:0,1 -a2 -b1"},
		{"a1 and b1 down: a2 restricted to partition 3", []member{dead(a1), a2, dead(b1)}, nil, 0, "a2:3 -a1 -b1"},
		{"B lacks partition 3 and a1 is down: partition by partition",
			[]member{dead(a1), a2, {url: "b1", known: true, up: true, group: "B", holds: parts(0, 1, 2)}}, nil, 0, "a2:3 b1:0,1,2"},
		{"one group, one member down", []member{dead(a1), a2}, nil, 0, "a2:3 -a1"},
		{"never polled", []member{{url: "x", err: "connection refused"}, a1, a2}, nil, 0, "a1:all a2:all -x"},
		{"nothing stored yet", []member{{url: "a1", known: true, up: true, group: "A"}, {url: "b1", known: true, up: true, group: "B"}}, nil, 1, "b1:all"},
		// A group that is catching up (more than 100 offsets behind on
		// a partition) is not asked in turn.
		{"b1 behind: group A whole", []member{a1, a2, behind(b1, 1, 500)}, nil, 1, "a1:all a2:all"},
		{"b1 behind within the lag: in turn", []member{a1, a2, behind(b1, 1, 90)}, nil, 1, "b1:all"},
		{"a1 down, b1 behind: still b1 for what only it has", []member{dead(a1), a2, behind(b1, 1, 500)}, nil, 0, "b1:all"},
		{"a2 behind on partition 3, which only group A has: the best copy there",
			[]member{a1, behind(a2, 3, 500), {url: "b1", known: true, up: true, group: "B", holds: parts(0, 1, 2), done: doneAt(1000, 0, 1, 2)}}, nil, 0, "a1:all a2:all"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			down := map[string]bool{}
			for _, d := range tt.down {
				down[d] = true
			}
			if got := planText(makePlan(tt.members, down, tt.rot, 100)); got != tt.want {
				t.Errorf("plan %q, want %q", got, tt.want)
			}
		})
	}
}

// TestMakePlanOneCopy checks, over every combination of indexers down,
// that a plan asks each partition of exactly one group, from every holder
// of it in that group, or skips a holder of it that is down.
func TestMakePlanOneCopy(t *testing.T) {
	all := []member{
		{url: "a1", known: true, up: true, group: "A", holds: parts(0, 1, 2)},
		{url: "a2", known: true, up: true, group: "A", holds: parts(2, 3, 4)},
		{url: "a3", known: true, up: true, group: "A", holds: parts(4, 5)},
		{url: "b1", known: true, up: true, group: "B", holds: parts(0, 1, 2, 3)},
		{url: "b2", known: true, up: true, group: "B", holds: parts(3, 4, 5)},
		{url: "c1", known: true, up: true, group: "C", holds: parts(0, 1, 2, 3, 4, 5)},
	}
	for mask := range 1 << len(all) {
		ms := slices.Clone(all)
		for i := range ms {
			ms[i].up = mask&(1<<i) == 0
		}
		for rot := range 3 {
			asks, skips := makePlan(ms, nil, rot, 100)
			for p := range int32(6) {
				var groups []string
				var holders []string
				for _, a := range asks {
					m := ms[slices.IndexFunc(ms, func(m member) bool { return m.url == a.url })]
					if !m.up {
						t.Fatalf("mask %b: asks %s, which is down", mask, a.url)
					}
					if slices.Contains(m.holds, parts(p)[0]) && (a.all || slices.Contains(a.parts, parts(p)[0])) {
						groups = append(groups, m.group)
						holders = append(holders, m.url)
					}
				}
				slices.Sort(groups)
				groups = slices.Compact(groups)
				if len(groups) > 1 {
					t.Fatalf("mask %b rot %d: partition %d asked of groups %v", mask, rot, p, groups)
				}
				if len(groups) == 1 {
					for _, m := range ms {
						if m.group == groups[0] && slices.Contains(m.holds, parts(p)[0]) && !slices.Contains(holders, m.url) {
							t.Fatalf("mask %b rot %d: partition %d: holder %s of group %s not asked", mask, rot, p, m.url, groups[0])
						}
					}
					continue
				}
				// No copy: some holder of p must be skipped in every group.
				for _, m := range ms {
					if slices.Contains(m.holds, parts(p)[0]) && m.up && !slices.ContainsFunc(ms, func(o member) bool {
						return o.group == m.group && !o.up && slices.Contains(o.holds, parts(p)[0]) &&
							slices.ContainsFunc(skips, func(s skip) bool { return s.url == o.url })
					}) {
						t.Fatalf("mask %b rot %d: partition %d unanswered though group %s is up for it", mask, rot, p, m.group)
					}
				}
			}
		}
	}
}

func TestWithin(t *testing.T) {
	for _, tt := range []struct {
		parts []Partition
		want  []string
	}{
		{parts(3), []string{"logs/3"}},
		{parts(0, 2), []string{"logs/0", "logs/2"}},
		{[]Partition{{"a", 1}, {"b", 2}}, []string{"a/1", "b/2"}},
	} {
		// What the indexer receives is the filter's text.
		q, err := query.Parse((&query.Query{}).AndFilter(within(tt.parts)).String())
		if err != nil {
			t.Fatalf("%v: %v", tt.parts, err)
		}
		f := q.Compile()
		var got []string
		for _, topic := range []string{"logs", "a", "b"} {
			for p := range 4 {
				r := &record.Record{Fields: []record.Field{{Name: "kafka.topic", Value: topic}, {Name: "kafka.partition", Value: fmt.Sprint(p)}}}
				if f.Match(r) {
					got = append(got, fmt.Sprintf("%s/%d", topic, p))
				}
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%v selects %v", tt.parts, got)
		}
	}
}
