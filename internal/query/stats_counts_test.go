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
