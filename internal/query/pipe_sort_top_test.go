package query

import (
	"math/rand"
	"slices"
	"sort"
	"strconv"
	"testing"
)

// TestTopRowsMatchesStableSort checks that the bounded sort before a limit
// returns exactly the first rows of a stable sort, ties included: rows
// with equal keys come in input order.
func TestTopRowsMatchesStableSort(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	keys := [][]SortKey{
		{{Field: "n", Desc: true}},
		{{Field: "n"}, {Field: "k", Desc: true}},
		{{Field: "k"}},
	}
	for iter := range 300 {
		rows := make([]Row, rng.Intn(40))
		for i := range rows {
			rows[i] = Row{Values: []Value{
				{Name: "n", Num: float64(rng.Intn(5)), IsNum: true},
				{Name: "k", Str: []string{"a", "b", "", "c"}[rng.Intn(4)]},
				{Name: "id", Str: strconv.Itoa(i)},
			}}
		}
		p := &sortProcessor{keys: keys[iter%len(keys)]}
		limit := rng.Intn(12)
		top := topRows{limit: limit, less: p.less}
		for _, r := range rows {
			top.offer(r)
		}
		want := slices.Clone(rows)
		sort.SliceStable(want, func(i, j int) bool { return p.less(want[i], want[j]) })
		want = want[:min(limit, len(want))]
		if got, want := ids(top.sorted()), ids(want); !slices.Equal(got, want) {
			t.Fatalf("keys %v, limit %d: got %v, want %v", p.keys, limit, got, want)
		}
	}
}

func ids(rows []Row) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		v, _ := r.get("id")
		out[i] = v.Str
	}
	return out
}

// TestSortLimitMatchesFullSort checks the bounded sort after stats (which
// then skips sorting the groups by key) against the full sort, which a
// pipe between sort and limit keeps: ties must come out the same.
func TestSortLimitMatchesFullSort(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	recs := randomRecords(rng, 300)
	src := sliceSearcher(recs)
	tails := []struct{ top, full string }{
		{" | stats count() as n by level | sort by n desc | limit 3", " | stats count() as n by level | sort by n desc | fields level, n | limit 3"},
		{" | stats count() as n by status, level | sort by n | limit 4", " | stats count() as n by status, level | sort by n | fields status, level, n | limit 4"},
		{" | stats count() as n by latency, _time:1ms | sort by n desc | limit 2", " | stats count() as n by latency, _time:1ms | sort by n desc | fields latency, _time, n | limit 2"},
		// Groups are passed over by the sort's columns before their rows
		// are built: a group key, a result with blanks, no column at all.
		{" | stats count() as n by latency | sort by latency desc | limit 2", " | stats count() as n by latency | sort by latency desc | fields latency, n | limit 2"},
		{" | stats count() as n, max(status) as m by level | sort by m, n desc | limit 3", " | stats count() as n, max(status) as m by level | sort by m, n desc | fields level, n, m | limit 3"},
		{" | stats count() as n by level | sort by nosuch, n | limit 2", " | stats count() as n by level | sort by nosuch, n | fields level, n | limit 2"},
	}
	for range 100 {
		node := randomNode(rng, 2)
		for _, tail := range tails {
			var out [2]string
			for i, s := range []string{tail.top, tail.full} {
				q, err := Parse(node.String() + s)
				if err != nil {
					t.Fatalf("%s%s: %v", node, s, err)
				}
				if out[i], err = runJSON(src, q, len(recs)); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			if out[0] != out[1] {
				t.Fatalf("%s%s:\n got %s\nwant %s", node, tail.top, out[0], out[1])
			}
		}
	}
}
