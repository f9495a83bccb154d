package querier

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/query"
	"github.com/sluice-log/sluice/internal/record"
)

// mk is a member that is up, of group, holding what spec says: for each
// partition "P:LO-HI[,LO-HI…]" (offsets held) or "P*:…" (consumed now
// too), or "P*" (consumed now, nothing stored yet).
func mk(url, group, spec string) member {
	m := member{url: url, known: true, up: true, group: group,
		done: map[Partition]int64{}, ranges: map[Partition][]span{}, assigned: map[Partition]bool{}}
	for _, f := range strings.Fields(spec) {
		ps, rs, _ := strings.Cut(f, ":")
		pn, consumed := strings.CutSuffix(ps, "*")
		n, err := strconv.Atoi(pn)
		if err != nil {
			panic(f)
		}
		p := Partition{"logs", int32(n)}
		m.holds = append(m.holds, p)
		m.done[p] = -1
		m.assigned[p] = consumed
		for _, r := range strings.FieldsFunc(rs, func(c rune) bool { return c == ',' }) {
			lo, hi, _ := strings.Cut(r, "-")
			l, _ := strconv.ParseInt(lo, 10, 64)
			h, _ := strconv.ParseInt(hi, 10, 64)
			m.ranges[p] = append(m.ranges[p], span{l, h})
			m.done[p] = max(m.done[p], h)
		}
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

// planText renders a plan as "url:all" or "url:0,2@10-19" per ask,
// sorted, then "-url" per skipped indexer.
func planText(asks []ask, skips []skip) string {
	var out []string
	for _, a := range asks {
		if a.all {
			out = append(out, a.url+":all")
			continue
		}
		var ps []string
		for _, p := range a.parts {
			ps = append(ps, strings.TrimPrefix(p.String(), "logs/"))
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
	a1 := mk("a1", "A", "0:0-1000 1:0-1000 2:0-499")
	a2 := mk("a2", "A", "2*:500-1000 3*:0-1000")
	b1 := mk("b1", "B", "0*:0-1000 1*:0-1000 2*:0-1000 3*:0-1000")
	dead := func(m member) member { m.up, m.err = false, "connection refused"; return m }
	// behind is m with partition p stored up to lag offsets less.
	behind := func(m member, p int32, lag int64) member {
		pp := parts(p)[0]
		m.done = maps.Clone(m.done)
		m.done[pp] -= lag
		m.ranges = maps.Clone(m.ranges)
		rs := slices.Clone(m.ranges[pp])
		rs[len(rs)-1].hi -= lag
		m.ranges[pp] = rs
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
			[]member{dead(a1), a2, mk("b1", "B", "0:0-1000 1:0-1000 2:0-1000")}, nil, 0, "a2:3 b1:0,1,2"},
		{"one group, one member down", []member{dead(a1), a2}, nil, 0, "a2:3 -a1"},
		{"never polled", []member{{url: "x", err: "connection refused"}, a1, a2}, nil, 0, "a1:all a2:all -x"},
		{"absent: left out", []member{{url: "x", absent: true, err: "no such host"}, a1, a2}, nil, 0, "a1:all a2:all"},
		{"nothing stored yet", []member{mk("a1", "A", ""), mk("b1", "B", "")}, nil, 1, "b1:all"},
		// A group that is catching up (more than 100 offsets behind on
		// a partition) is not asked in turn.
		{"b1 behind: group A whole", []member{a1, a2, behind(b1, 1, 500)}, nil, 1, "a1:all a2:all"},
		{"b1 behind within the lag: in turn", []member{a1, a2, behind(b1, 1, 90)}, nil, 1, "b1:all"},
		{"a1 down, b1 behind: still b1 for what only it has", []member{dead(a1), a2, behind(b1, 1, 500)}, nil, 0, "b1:all"},
		{"a2 behind on partition 3, which only group A has: the best copy there",
			[]member{a1, behind(a2, 3, 500), mk("b1", "B", "0:0-1000 1:0-1000 2:0-1000")}, nil, 0, "a1:all a2:all"},

		// a1 stored partition 2 up to 599 and died before committing
		// past 499; a2 consumed 500-599 again: both hold them.
		{"overlap: divided, the rest whole",
			[]member{mk("a1", "A", "0:0-1000 1:0-1000 2:0-599"), a2}, nil, 0, "a1:0,1,2@0-599 a2:2@600-,3"},
		{"overlap: the other group whole if it holds none twice",
			[]member{mk("a1", "A", "0:0-1000 1:0-1000 2:0-599"), a2, b1}, nil, 1, "b1:all"},
		{"overlap in B, A whole",
			[]member{a1, a2, mk("b1", "B", "0:0-1000 1:0-1000 2:0-700 3:0-1000"), mk("b2", "B", "2*:650-1000")}, nil, 0, "a1:all a2:all"},
		{"overlap: the member consuming the partition takes what follows its shared offsets",
			[]member{mk("a1", "A", "0:0-1000 1:0-1000 2:0-599"), mk("a2", "A", "2*:500-1000 3:0-1000")}, nil, 0, "a1:0,1,2@0-599 a2:2@600-,3"},
		{"overlap: the member that died holds what no one else does",
			[]member{mk("a1", "A", "0:0-1000 1:0-1000 2:0-599,800-900"), mk("a2", "A", "2*:500-1000 3:0-1000")}, nil, 0, "a1:0,1,2@0-599 a2:2@600-,3"},
		{"a1 down but a2 holds all its offsets of the partitions it left",
			[]member{dead(mk("a1", "A", "2:0-599")), mk("a2", "A", "0*:0-1000 1*:0-1000 2*:0-1000 3*:0-1000")}, nil, 0, "a2:all"},
		{"a1 down and consumed partition 2 when last polled: it may have stored more",
			[]member{dead(mk("a1", "A", "2*:0-599")), mk("a2", "A", "0*:0-1000 1*:0-1000 2:0-1000 3*:0-1000")}, nil, 0, "a2:0,1,3 -a1"},
		{"a1 down, a2 lacks part of its offsets",
			[]member{dead(mk("a1", "A", "2:0-599")), mk("a2", "A", "0*:0-1000 1*:0-1000 2*:100-1000 3*:0-1000")}, nil, 0, "a2:0,1,3 -a1"},
		{"three holders, a chain of overlaps",
			[]member{mk("a1", "A", "0:0-300"), mk("a2", "A", "0:200-600"), mk("a3", "A", "0*:500-900")}, nil, 0, "a1:0@0-300 a2:0@301-600 a3:0@601-"},
		{"a holder with nothing left to answer for is not asked",
			[]member{mk("a1", "A", "0:0-600"), mk("a2", "A", "0:200-500"), mk("a3", "A", "0*:601-900")}, nil, 0, "a1:0@0-600 a3:0@601-"},
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
// that a plan asks every offset of every partition of exactly one
// indexer, or skips a holder of it that is down. Group A's members hold
// some offsets twice (a batch consumed again after a crash before its
// commit).
func TestMakePlanOneCopy(t *testing.T) {
	all := []member{
		mk("a1", "A", "0:0-99 1:0-99 2:0-60"),
		mk("a2", "A", "2:40-99 3:0-99 4:0-49"),
		mk("a3", "A", "4*:30-99 5*:0-99"),
		mk("b1", "B", "0:0-99 1:0-99 2:0-99 3:0-59"),
		mk("b2", "B", "3*:60-99 4*:0-99 5*:0-99"),
		mk("c1", "C", "0*:0-99 1*:0-99 2*:0-99 3*:0-99 4*:0-99 5*:0-99"),
	}
	for mask := range 1 << len(all) {
		ms := slices.Clone(all)
		for i := range ms {
			ms[i].up = mask&(1<<i) == 0
		}
		for rot := range 3 {
			asks, skips := makePlan(ms, nil, rot, 1000)
			for p := range int32(6) {
				pp := parts(p)[0]
				for off := int64(0); off < 100; off++ {
					// Who is asked for this record.
					var askedOf []string
					for _, a := range asks {
						m := ms[slices.IndexFunc(ms, func(m member) bool { return m.url == a.url })]
						if !m.up {
							t.Fatalf("mask %b: asks %s, which is down", mask, a.url)
						}
						if !covers(m.ranges[pp], span{off, off}) {
							continue
						}
						if a.all || slices.ContainsFunc(a.parts, func(s share) bool {
							return s.Partition == pp && (s.spans == nil || covers(s.spans, span{off, off}))
						}) {
							askedOf = append(askedOf, m.url)
						}
					}
					if len(askedOf) > 1 {
						t.Fatalf("mask %b rot %d: %d/%d asked of %v", mask, rot, p, off, askedOf)
					}
					if len(askedOf) == 1 {
						continue
					}
					// Not asked: every copy of it has a holder down, named.
					for _, m := range ms {
						if !covers(m.ranges[pp], span{off, off}) {
							continue
						}
						if m.up && !slices.ContainsFunc(ms, func(o member) bool {
							return o.group == m.group && !o.up && slices.Contains(o.holds, pp) &&
								slices.ContainsFunc(skips, func(s skip) bool { return s.url == o.url })
						}) {
							t.Fatalf("mask %b rot %d: %d/%d unanswered though %s holds it and no holder of its group is skipped", mask, rot, p, off, m.url)
						}
					}
				}
			}
		}
	}
}

func TestWithin(t *testing.T) {
	whole := func(ps ...Partition) []share {
		var out []share
		for _, p := range ps {
			out = append(out, share{Partition: p})
		}
		return out
	}
	logs := func(p int32) Partition { return Partition{"logs", p} }
	for _, tt := range []struct {
		shares []share
		want   []string
	}{
		{whole(logs(3)), []string{"logs/3@0", "logs/3@5", "logs/3@9", "logs/3@12"}},
		{whole(logs(0), logs(2)), []string{"logs/0@0", "logs/0@5", "logs/0@9", "logs/0@12", "logs/2@0", "logs/2@5", "logs/2@9", "logs/2@12"}},
		{whole(Partition{"a", 1}, Partition{"b", 2}), []string{"a/1@0", "a/1@5", "a/1@9", "a/1@12", "b/2@0", "b/2@5", "b/2@9", "b/2@12"}},
		{[]share{{logs(1), []span{{0, 5}}}, {logs(2), []span{{5, 8}, {12, openEnd}}}}, []string{"logs/1@0", "logs/1@5", "logs/2@5", "logs/2@12"}},
		{[]share{{logs(0), []span{{9, openEnd}}}, {logs(3), nil}}, []string{"logs/0@9", "logs/0@12", "logs/3@0", "logs/3@5", "logs/3@9", "logs/3@12"}},
	} {
		// What the indexer receives is the filter's text.
		q, err := query.Parse((&query.Query{}).AndFilter(within(tt.shares)).String())
		if err != nil {
			t.Fatalf("%v: %v", tt.shares, err)
		}
		f := q.Compile()
		var got []string
		for _, topic := range []string{"logs", "a", "b"} {
			for p := range 4 {
				for _, off := range []int{0, 5, 9, 12} {
					r := &record.Record{Fields: []record.Field{{Name: "kafka.topic", Value: topic},
						{Name: "kafka.partition", Value: fmt.Sprint(p)}, {Name: "kafka.offset", Value: fmt.Sprint(off)}}}
					if f.Match(r) {
						got = append(got, fmt.Sprintf("%s/%d@%d", topic, p, off))
					}
				}
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%v selects %v, want %v", tt.shares, got, tt.want)
		}
	}
}
