package query

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/record"
)

// countRecords is records for the count accumulators' tests: trace ids
// that repeat a varied number of times (ties among the counts, numeric
// ids that order as numbers, records without the field), at times that
// go back and forth, before 1970 too.
func countRecords() sliceSearcher {
	var src sliceSearcher
	for i := range 500 {
		t := base + int64((i*7919)%3000)*int64(time.Second)*37
		if i%50 == 0 {
			t = -t / 3
		}
		var fields []record.Field
		if i%23 != 0 {
			id := strconv.Itoa((i * i) % 97)
			if i%3 == 0 {
				id = "t" + id
			}
			fields = []record.Field{{Name: "trace", Value: id}}
		}
		src = append(src, record.Record{Time: t, Message: "m", Fields: fields})
	}
	return src
}

// TestCountAccumulators checks that count-only pipes counted in a
// keyCounts or a bucketCounts (and their top-N flush, which passes over
// most keys without making their groups) give the rows that the groups'
// own counting gives.
func TestCountAccumulators(t *testing.T) {
	src := countRecords()
	// Far apart: more minutes between them than a bucketCounts spans.
	far := slices.Clone(src)
	for i := range far {
		if i%2 == 1 {
			far[i].Time += int64(maxDenseBuckets+5) * int64(time.Minute)
		}
	}
	tests := []struct {
		name  string
		src   sliceSearcher
		query string
	}{
		{"histogram", src, `* | stats count() as n by _time:1m`},
		{"histogram two counts", src, `* | stats count() as n, count() as m by _time:1h`},
		{"histogram beyond the array", far, `* | stats count() as n by _time:1m`},
		{"histogram sorted", src, `* | stats count() as n by _time:5m | sort by n desc | limit 4`},
		{"by key", src, `* | stats count() as n by trace`},
		{"top by count", src, `* | stats count() as n by trace | sort by n desc | limit 5`},
		{"bottom by count", src, `* | stats count() as n by trace | sort by n | limit 5`},
		{"top by count and key", src, `* | stats count() as n by trace | sort by n desc, trace desc | limit 7`},
		{"top by key", src, `* | stats count() as n by trace | sort by trace desc | limit 3`},
		{"top of all", src, `* | stats count() as n by trace | sort by n desc | limit 1000`},
		{"two counts top", src, `* | stats count() as a, count() as b by trace | sort by b desc | limit 4`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := run(t, tt.src, tt.query, Options{})
			countAccumulators = false
			defer func() { countAccumulators = true }()
			want := run(t, tt.src, tt.query, Options{})
			if !slices.Equal(got, want) {
				t.Errorf("%s:\ngot  %v\nwant %v", tt.query, got, want)
			}
			if len(want) == 0 {
				t.Fatal("no rows: the test proves nothing")
			}
		})
	}
}

// TestCountAccumulatorsBulk checks the bulk counts the store passes
// (pushCount with times, or n records of one key) against the groups'
// own counting.
func TestCountAccumulatorsBulk(t *testing.T) {
	minute := int64(time.Minute)
	tests := []struct {
		name  string
		by    []GroupKey
		times [][]int64
		keys  []string
	}{
		{"times in order", []GroupKey{{Bucket: time.Minute}}, [][]int64{{0, 1, minute, minute + 5, 3 * minute}, {2 * minute, 7}}, nil},
		{"times back and forth", []GroupKey{{Bucket: time.Minute}}, [][]int64{{5 * minute, -minute, 0, -1, 100 * minute, 5*minute + 1}}, nil},
		{"times beyond the array", []GroupKey{{Bucket: time.Minute}},
			[][]int64{{0, int64(maxDenseBuckets) * minute, 1, -int64(maxDenseBuckets) * minute, 2}, {int64(maxDenseBuckets-1) * minute}}, nil},
		{"keys", []GroupKey{{Field: "trace"}}, nil, []string{"b", "a", "b", "", "10", "9", "a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows := func() []string {
				var out []string
				emit := appendJSONRows(&out)
				pipe := &StatsPipe{Funcs: []StatsCall{{Func: statsCount{}, Name: "n"}}, By: tt.by}
				sp := pipe.newProcessor(Options{}.withDefaults(), emit).(*statsProcessor)
				for _, ts := range tt.times {
					if err := sp.pushCount(&record.Record{}, len(ts), ts); err != nil {
						t.Fatal(err)
					}
				}
				for i, k := range tt.keys {
					// A buffer that is overwritten after the call, as
					// the store's block buffers are.
					buf := []byte(k)
					r := &record.Record{Fields: []record.Field{{Name: "trace", Value: string(buf)}}}
					if k == "" {
						r.Fields = nil
					}
					if err := sp.pushCount(r, i+1, nil); err != nil {
						t.Fatal(err)
					}
					copy(buf, strings.Repeat("z", len(buf)))
				}
				if err := sp.flush(); err != nil {
					t.Fatal(err)
				}
				return out
			}
			got := rows()
			countAccumulators = false
			defer func() { countAccumulators = true }()
			if want := rows(); !slices.Equal(got, want) {
				t.Errorf("got  %v\nwant %v", got, want)
			}
		})
	}
}

// TestCountAccumulatorsMaxGroups checks that the group bound holds with
// and without the accumulators.
func TestCountAccumulatorsMaxGroups(t *testing.T) {
	src := countRecords()
	for _, acc := range []bool{true, false} {
		for _, query := range []string{`* | stats count() as n by trace`, `* | stats count() as n by _time:1m`,
			`* | stats count() as n by trace | sort by n desc | limit 2`} {
			countAccumulators = acc
			q, err := Parse(query)
			if err != nil {
				t.Fatal(err)
			}
			err = Execute(t.Context(), src, q, Options{MaxGroups: 10}, func(Row) error { return nil })
			if err == nil || !strings.Contains(err.Error(), "more than 10 groups") {
				t.Errorf("accumulators %v, %s: err %v, want more than 10 groups", acc, query, err)
			}
		}
	}
	countAccumulators = true
}

// TestStatsKeyMemory checks the aggregation's memory estimate for a
// group of one field: its key is counted once, as it is stored once (the
// map and the group share it).
func TestStatsKeyMemory(t *testing.T) {
	tests := []struct {
		name  string
		funcs []StatsCall
		key   string
		want  int64
	}{
		{"count in the table", []StatsCall{{Func: statsCount{}, Name: "n"}}, "abcdefghij", 0},
		{"max in a group", []StatsCall{{Func: statsMax{}, Name: "m"}}, "abcdefghij", 10 + groupOverhead + stateOverhead},
		{"two functions", []StatsCall{{Func: statsMax{}, Name: "m"}, {Func: statsCount{}, Name: "n"}}, "abc", 3 + groupOverhead + 2*stateOverhead},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pipe := &StatsPipe{Funcs: tt.funcs, By: []GroupKey{{Field: "k"}}}
			sp := pipe.newProcessor(Options{}.withDefaults(), discard).(*statsProcessor)
			r := Row{Record: &record.Record{Fields: []record.Field{{Name: "k", Value: tt.key}}}}
			if err := sp.push(r); err != nil {
				t.Fatal(err)
			}
			mem := sp.mem
			if sp.table != nil {
				// The table's first slots and key chunk, which holds
				// the key.
				mem -= int64(keySlotsFirst*keySlotBytes + keyChunkFirst)
			}
			if mem != tt.want {
				t.Errorf("mem %d, want %d", mem, tt.want)
			}
			before := sp.mem
			if err := sp.push(r); err != nil {
				t.Fatal(err)
			}
			if sp.mem != before {
				t.Errorf("a known key grew the estimate from %d to %d", before, sp.mem)
			}
		})
	}
}

// TestCountTopTies checks the top-N flush of a count table when many
// keys tie with the last row kept and are passed over by their slots'
// prefixes (keyAfter): keys alike in their first four bytes, shorter
// than four, with bytes past ASCII, and keys that are or may be numbers,
// which order before the others. The groups' own counting, which sorts
// every group, is the reference.
func TestCountTopTies(t *testing.T) {
	keys := []string{"abcd1", "abcd0", "abcd", "abc", "ab", "abcd\x00", "zzzz", "\xff\xfe", "é", "0abc", "0x1f",
		"1e3", "nan", "Inf", "-5", "10", "9", "_", "ABCD", "abce", "abcc", "b", "a"}
	var src sliceSearcher
	for i, k := range keys {
		n := 1
		if i%7 == 3 {
			n = 2 // a few keys above the ties
		}
		for range n {
			src = append(src, record.Record{Time: base + int64(i), Message: "m", Fields: []record.Field{{Name: "k", Value: k}}})
		}
	}
	src = append(src, record.Record{Time: base, Message: "m"}) // no key: ""
	for _, query := range []string{
		`* | stats count() as n by k | sort by n desc | limit 1`,
		`* | stats count() as n by k | sort by n desc | limit 5`,
		`* | stats count() as n by k | sort by n desc | limit 12`,
		`* | stats count() as n by k | sort by n | limit 6`,
		`* | stats count() as n, count() as m by k | sort by m desc | limit 4`,
	} {
		checkAccumulated(t, src, query)
	}
	// Without numbers the order is the keys' bytes: the prefixes decide
	// most of them, the keys themselves those alike in four bytes (the
	// limit falls among the "abcd…" keys).
	var words sliceSearcher
	for i := range 300 {
		k := strconv.FormatInt(int64(i*7919%1000), 36) + "x"
		if i%2 == 0 {
			k = "abcd" + k
		}
		words = append(words, record.Record{Time: base, Message: "m", Fields: []record.Field{{Name: "k", Value: k}}})
	}
	for _, limit := range []int{7, 40, 149, 151} {
		checkAccumulated(t, words, `* | stats count() as n by k | sort by n desc | limit `+strconv.Itoa(limit))
	}
}

// checkAccumulated fails unless query gives over src with the count
// accumulators the rows it gives with the groups' own counting.
func checkAccumulated(t *testing.T, src sliceSearcher, query string) {
	t.Helper()
	got := run(t, src, query, Options{})
	countAccumulators = false
	defer func() { countAccumulators = true }()
	if want := run(t, src, query, Options{}); !slices.Equal(got, want) {
		t.Errorf("%s:\ngot  %v\nwant %v", query, got, want)
	}
}

// TestKeyAfter checks what a slot alone tells of its key's order against
// a kept group's key: after it only when surely so.
func TestKeyAfter(t *testing.T) {
	tests := []struct {
		key, kept string
		want      bool
	}{
		{"abce", "abcd", true},
		{"abcd", "abcd", false},   // alike in four bytes: the keys decide
		{"abcd0", "abcd1", false}, // the same
		{"abc", "abcd", false},
		{"b", "abcd", true},
		{"abcd", "9", true},    // a number comes first
		{"12", "9", false},     // may be a number: parsed
		{"1e3x", "abc", false}, // starts like a number, is none: the prefix is less
		{"x", "1e3", true},
		{"\xff", "abcd", true},
		{"", "a", false},
	}
	for _, tt := range tests {
		var tab keyCounts
		tab.add(tt.key, 1, false)
		var sl *keySlot
		for i := range tab.slots {
			if tab.slots[i].hash != 0 {
				sl = &tab.slots[i]
			}
		}
		g := &statsGroup{keys: []Value{{Name: "k", Str: tt.kept}}, nums: make([]parsedNumber, 1)}
		if got := keyAfter(sl, g); got != tt.want {
			t.Errorf("keyAfter(%q, kept %q) = %v, want %v", tt.key, tt.kept, got, tt.want)
		}
		probe := &statsGroup{keys: []Value{{Name: "k", Str: tt.key}}, nums: make([]parsedNumber, 1)}
		if tt.want && compareGroups(probe, g, []GroupKey{{Field: "k"}}) <= 0 {
			t.Errorf("keyAfter(%q, kept %q) = true, but compareGroups orders it first", tt.key, tt.kept)
		}
	}
}

// TestKeyPrefix checks the order keyAfter relies on: a greater prefix
// means a greater key.
func TestKeyPrefix(t *testing.T) {
	keys := []string{"", "\x00", "a", "a\x00", "ab", "abc", "abcd", "abcd\x00", "abcde", "abce", "b", "\xff", "\xff\xff\xff\xff\xff"}
	for _, a := range keys {
		for _, b := range keys {
			if keyPrefix(a) > keyPrefix(b) && a <= b {
				t.Errorf("keyPrefix(%q) > keyPrefix(%q) but %q <= %q", a, b, a, b)
			}
		}
	}
	if got, want := keyPrefix("abcde"), uint32('a')<<24|uint32('b')<<16|uint32('c')<<8|uint32('d'); got != want {
		t.Errorf("keyPrefix(abcde) = %#x, want %#x", got, want)
	}
}

// TestPushValuesBatches checks the batched count of a block's values
// (pushValues, keyBatch at a time, with their slots touched first)
// against counting them one by one, across batches and table growth.
func TestPushValuesBatches(t *testing.T) {
	var values []string
	var counts []int
	for i := range 12*keyBatch + 5 {
		values = append(values, "id-"+strconv.Itoa(i%70))
		counts = append(counts, 1+i%4)
	}
	rows := func(bulk bool) []string {
		var out []string
		pipe := &StatsPipe{Funcs: []StatsCall{{Func: statsCount{}, Name: "n"}}, By: []GroupKey{{Field: "k"}}}
		sp := pipe.newProcessor(Options{}.withDefaults(), appendJSONRows(&out)).(*statsProcessor)
		for range 3 {
			if bulk {
				if err := sp.pushValues(&record.Record{}, "k", values, counts); err != nil {
					t.Fatal(err)
				}
				continue
			}
			for i, v := range values {
				if err := sp.countKey(v, counts[i]); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := sp.flush(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	got, want := rows(true), rows(false)
	// 70 keys: the table grows from its first keySlotsFirst slots.
	if !slices.Equal(got, want) || len(want) != 70 {
		t.Errorf("batched: %v\none by one: %v", got, want)
	}
}
