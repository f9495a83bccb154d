package query

import (
	"context"
	"math"
	"math/rand"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/record"
)

// statsFuncsUnderTest is one call of every registered stats function;
// TestStatsMergeCoversRegistry keeps it complete.
var statsFuncsUnderTest = []string{
	"count()", "sum(x)", "min(x)", "max(x)", "avg(x)", "count_uniq(x)",
	"quantile(0.5, x)", "quantile(0.9, x)", "quantile(0, x)", "quantile(1, x)", "rate()", "sum_len(x)",
}

func TestStatsMergeCoversRegistry(t *testing.T) {
	for name := range statsRegistry {
		if !slices.ContainsFunc(statsFuncsUnderTest, func(c string) bool { return strings.HasPrefix(c, name+"(") }) {
			t.Errorf("stats function %s has no merge test: add it to statsFuncsUnderTest", name)
		}
	}
}

// TestStatsMerge checks every stats function's merge: the states of the
// rows split in parts, encoded and merged into one, answer what one state
// given every row answers.
func TestStatsMerge(t *testing.T) {
	row := func(time int64, x string) Row {
		r := &record.Record{Time: time}
		if x != "-" {
			r.Fields = []record.Field{{Name: "x", Value: x}}
		}
		return Row{Record: r}
	}
	inputs := []struct {
		name string
		xs   []string // "-" for a row without x
	}{
		{"empty", nil},
		{"one value", []string{"7"}},
		{"no numbers", []string{"a", "b", "-", ""}},
		{"integers", []string{"3", "1", "4", "1", "5", "9", "2", "6", "5", "3", "5"}},
		{"mixed", []string{"-2.5", "x", "1e3", "-", "0.25", "0.25", "100", "abc", "-7", ""}},
		{"repeats", []string{"200", "200", "200", "503", "503", "200", "404"}},
	}
	for _, fn := range statsFuncsUnderTest {
		q, err := Parse("* | stats " + fn)
		if err != nil {
			t.Fatal(err)
		}
		f := q.Pipes[0].(*StatsPipe).Funcs[0].Func
		for _, in := range inputs {
			rows := make([]Row, len(in.xs))
			for i, x := range in.xs {
				rows[i] = row(int64(i)*1e9, x)
			}
			union := newSpanState(f)
			for _, r := range rows {
				union.add(r)
			}
			want := union.result()
			for parts := 1; parts <= 4; parts++ {
				for _, split := range []string{"round robin", "runs"} {
					merged := newSpanState(f)
					for p := range parts {
						st := newSpanState(f)
						for i, r := range rows {
							if split == "round robin" && i%parts == p || split == "runs" && i*parts/max(len(rows), 1) == p {
								st.add(r)
							}
						}
						if _, err := merged.mergePartial(st.appendPartial(nil), 1<<30); err != nil {
							t.Fatalf("%s %s: merge: %v", fn, in.name, err)
						}
					}
					if got := merged.result(); !sameValue(got, want) {
						t.Errorf("%s over %s in %d parts (%s): %v, want %v", fn, in.name, parts, split, got, want)
					}
				}
			}
		}
	}
}

func newSpanState(f StatsFunc) statsState {
	st := f.newState()
	if ss, ok := st.(spanSetter); ok {
		ss.setSpan(60)
	}
	return st
}

func sameValue(a, b Value) bool {
	if a.IsNum && b.IsNum && math.IsNaN(a.Num) && math.IsNaN(b.Num) {
		return true
	}
	return a == b
}

// TestStatsMergeBudget checks that a merge refuses to grow a state past
// its budget before allocating, and leaves it unchanged.
func TestStatsMergeBudget(t *testing.T) {
	for _, fn := range []string{"count_uniq(x)", "quantile(0.5, x)"} {
		q, _ := Parse("* | stats " + fn)
		f := q.Pipes[0].(*StatsPipe).Funcs[0].Func
		big := f.newState()
		for i := range 1000 {
			big.add(Row{Record: &record.Record{Fields: []record.Field{{Name: "x", Value: strconv.Itoa(i)}}}})
		}
		st := f.newState()
		if _, err := st.mergePartial(big.appendPartial(nil), 100); err != errPartialBudget {
			t.Errorf("%s: merge over budget: %v, want errPartialBudget", fn, err)
		}
		if got := st.result(); !sameValue(got, f.newState().result()) {
			t.Errorf("%s: state changed by a refused merge: %v", fn, got)
		}
	}
}

// distributedQueries exercise every way a query splits: plain searches
// with and without streaming pipes and later pipes, every stats function,
// group keys of every kind, top, and pipes after the aggregation.
var distributedQueries = []string{
	`*`,
	`error`,
	`level:error | fields _time, level, status`,
	`* | sort by status desc | limit 7`,
	`* | filter level:error | limit 3`,
	`* | stats count() as n`,
	`nothing_matches_this | stats count() as n, sum(status), avg(latency)`,
	`* | stats count(), sum(status), min(latency), max(latency), avg(status), count_uniq(level), quantile(0.5, status), quantile(0.99, latency) by level`,
	`* | stats count() as n by host, service`,
	`* | stats count() as n, rate() by _time:50ms`,
	`* | stats count() as n, rate()`,
	`_time:[1970-01-01T00:00:00.001Z TO 1970-01-01T00:00:00.2Z} | stats rate(), count() by level`,
	`* | stats count() as n by _time:20ms, service | sort by n desc, service | limit 5`,
	`* | stats count() as n by level | sort by n desc | limit 2`,
	`* | stats count() as n by level | stats count() as groups, sum(n)`,
	`* | top 3 by level, host`,
	`* | top 2 by service | fields service`,
	`* | extract "<a> <b>" | stats count() as n by a`,
	`status:>=200 | stats count_uniq(_msg) as u, count() as n by service`,
	`* | flow start=level:error end=level:warn key=host within=50ms`,
	`* | flow start=error end=retry key=service within=20ms | limit 3`,
}

// TestDistributedMatchesExecute splits random records over three
// "indexers" and checks that merging their partial answers gives what
// Execute gives over all of them.
func TestDistributedMatchesExecute(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	recs := msRecords(randomRecords(rng, 400))
	var shards [3]sliceSearcher
	for _, r := range recs {
		i := rng.Intn(len(shards))
		shards[i] = append(shards[i], r)
	}
	ctx := context.Background()
	opts := Options{Limit: 25}
	for _, qs := range distributedQueries {
		q, err := Parse(qs)
		if err != nil {
			t.Fatalf("%s: %v", qs, err)
		}
		want := collectJSON(t, func(emit func(Row) error) error { return Execute(ctx, sliceSearcher(recs), q, opts, emit) })
		got := collectJSON(t, func(emit func(Row) error) error {
			m, err := NewMerge(q, opts, emit)
			if err != nil {
				return err
			}
			for _, s := range shards {
				b, err := ExecutePartial(ctx, s, q, opts)
				if err != nil {
					return err
				}
				if err := m.Add(b); err != nil {
					return err
				}
			}
			return m.Finish()
		})
		if !slices.Equal(got, want) {
			t.Errorf("%s:\n merged %v\n single %v", qs, got, want)
		}
		if len(want) == 0 && !strings.Contains(qs, "nothing") {
			t.Errorf("%s: no rows; the test proves nothing", qs)
		}
	}
}

// msRecords spaces randomRecords' records 1 ms apart, so that _time
// buckets (whole milliseconds at least) hold several.
func msRecords(recs []record.Record) []record.Record {
	for i := range recs {
		recs[i].Time *= 1000
	}
	return recs
}

func collectJSON(t *testing.T, run func(emit func(Row) error) error) []string {
	t.Helper()
	var out []string
	if err := run(func(r Row) error { out = append(out, string(r.AppendJSON(nil))); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestFieldNamesMerge(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	recs := randomRecords(rng, 300)
	ctx := context.Background()
	q, _ := Parse("*")
	for _, top := range []int{0, 3} {
		want, err := FieldNames(ctx, sliceSearcher(recs), q, Options{}, top)
		if err != nil {
			t.Fatal(err)
		}
		m := NewFieldNamesMerge(Options{}, top)
		for i := 0; i < len(recs); i += 100 {
			b, err := FieldNamesPartial(ctx, sliceSearcher(recs[i:i+100]), q, Options{}, top > 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Add(b); err != nil {
				t.Fatal(err)
			}
		}
		if got := m.Result(); !reflect.DeepEqual(got, want) {
			t.Errorf("top %d: merged %v\nwant %v", top, got, want)
		}
	}
}

func TestMergeContext(t *testing.T) {
	stream := []record.Field{{Name: "host", Value: "a"}}
	var recs []record.Record
	for i := range 40 {
		recs = append(recs, record.Record{Time: int64(i / 2 * 10), Stream: stream, Message: strconv.Itoa(i)})
	}
	ctx := context.Background()
	const at = 100
	want, err := Context(ctx, sliceSearcher(recs), `{host="a"}`, at, 5, 7, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var parts [][]byte
	for _, shard := range [][]record.Record{recs[:13], recs[13:21], recs[21:]} {
		b, err := ContextPartial(ctx, sliceSearcher(shard), `{host="a"}`, at, 5, 7, Options{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, b)
	}
	got, err := MergeContext(parts, 5, 7, Options{})
	if err != nil {
		t.Fatal(err)
	}
	msgs := func(rs []*record.Record) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Message)
		}
		sort.Strings(out) // records of one time may come in any order
		return out
	}
	for i, pair := range [][2][]*record.Record{{got.Before, want.Before}, {got.At, want.At}, {got.After, want.After}} {
		if g, w := msgs(pair[0]), msgs(pair[1]); !slices.Equal(g, w) || len(w) == 0 {
			t.Errorf("side %d: merged %v, want %v", i, g, w)
		}
	}
}

// FuzzPartialDecode feeds arbitrary bytes to every decoder of partial
// answers: none may panic, and a state that decodes must encode and
// decode again to the same result.
func FuzzPartialDecode(f *testing.F) {
	ctx := context.Background()
	recs := msRecords(randomRecords(rand.New(rand.NewSource(1)), 50))
	statsQ, _ := Parse(`* | stats count(), sum(status), min(status), max(status), avg(status), count_uniq(level), quantile(0.5, status), rate() by level, _time:10ms`)
	plainQ, _ := Parse(`* | sort by level`)
	flowQ, _ := Parse(`* | flow start=level:error end=level:warn key=host within=5ms`)
	for _, q := range []*Query{statsQ, plainQ, flowQ} {
		b, _ := ExecutePartial(ctx, sliceSearcher(recs), q, Options{})
		f.Add(b)
	}
	b, _ := FieldNamesPartial(ctx, sliceSearcher(recs), plainQ, Options{}, true)
	f.Add(b)
	b, _ = ContextPartial(ctx, sliceSearcher(recs), `{host="web-1"}`, 20000000, 3, 3, Options{}, nil)
	f.Add(b)
	f.Add([]byte{5, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01})
	var funcs []StatsFunc
	for _, c := range statsQ.Pipes[0].(*StatsPipe).Funcs {
		funcs = append(funcs, c.Func)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, q := range []*Query{statsQ, plainQ, flowQ} {
			m, err := NewMerge(q, Options{MaxMemory: 1 << 20, MaxGroups: 1000}, func(Row) error { return nil })
			if err != nil {
				t.Fatal(err)
			}
			if m.Add(b) == nil {
				_ = m.Finish()
			}
		}
		_ = NewFieldNamesMerge(Options{MaxGroups: 1000}, 5).Add(b)
		_, _ = MergeContext([][]byte{b}, 3, 3, Options{MaxResultBytes: 1 << 20})
		for _, fn := range funcs {
			st := newSpanState(fn)
			if _, err := st.mergePartial(b, 1<<20); err != nil {
				continue
			}
			again := newSpanState(fn)
			if _, err := again.mergePartial(st.appendPartial(nil), 1<<20); err != nil {
				t.Fatalf("%s: a decoded state does not decode again: %v", fn, err)
			}
			if !sameValue(again.result(), st.result()) {
				t.Fatalf("%s: %v after a round trip, %v before", fn, again.result(), st.result())
			}
		}
	})
}
