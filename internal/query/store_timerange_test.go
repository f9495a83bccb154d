package query

import (
	"fmt"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/store"
)

// TestHourOfDayReadsItsBlocks checks time-range pruning inside a day's
// part: streams of fewer records a day than a block holds are cut into
// blocks at hour boundaries (once a block has a thousand records), so
// that a query over one hour of the day reads the blocks around that hour,
// not every stream's whole day. The answers stay exact.
func TestHourOfDayReadsItsBlocks(t *testing.T) {
	const (
		streams = 12
		every   = 30 * time.Second // 2880 records a stream a day, under a block's 8192
	)
	day := time.Date(2024, 5, 6, 0, 0, 0, 0, time.UTC)
	var recs []record.Record
	for s := range streams {
		for i := range int(24 * time.Hour / every) {
			recs = append(recs, record.Record{Time: day.Add(time.Duration(i) * every).UnixNano(),
				Message: "request " + strconv.Itoa(i),
				Stream:  []record.Field{{Name: "app", Value: "svc" + strconv.Itoa(s)}},
				Fields:  []record.Field{{Name: "level", Value: []string{"info", "info", "warn", "error"}[(i+s)%4]}}})
		}
	}
	st := openSplitStore(t, recs, 8192, 1)
	hour := func(h int) string { return day.Add(time.Duration(h) * time.Hour).Format(time.RFC3339) }
	for _, tc := range []struct {
		query string
		// Streams of 120 records an hour are cut every ninth hour (at the
		// first hour boundary after 1024 records): an hour's query reads
		// the one block of each stream that holds it, of at most 1080
		// records. Before, each stream's day was one block: all 12 blocks
		// and 34560 records were read.
		maxBlocks, maxRecords int64
	}{
		{"_time:[" + hour(10) + " TO " + hour(11) + "} level:error | stats count() as n", streams, streams * 1080},
		{"_time:[" + hour(10) + " TO " + hour(11) + "} level:error | stats count() as n by _time:1m", streams, streams * 1080},
		{"_time:[" + hour(23) + " TO " + hour(24) + "} request | stats count() as n by app", streams, streams * 1080},
	} {
		var stats store.SearchStats
		compareQuery(t, st, sliceSearcher(recs), tc.query, 100000, &stats)
		if stats.BlocksRead > tc.maxBlocks || stats.RecordsScanned > tc.maxRecords {
			t.Errorf("%s: read %d of %d blocks, %d records; want at most %d blocks, %d records",
				tc.query, stats.BlocksRead, stats.Blocks, stats.RecordsScanned, tc.maxBlocks, tc.maxRecords)
		}
		t.Logf("%s: read %d of %d blocks, %d records scanned", tc.query, stats.BlocksRead, stats.Blocks, stats.RecordsScanned)
	}
}

// TestSparseHourByTimeIndex runs hour queries over streams too sparse for
// hour-aligned blocks (200 records a day: one block each over the whole
// day), which the blocks' time index answers: a count of every record in
// the hour reads no block, a level's count reads the blocks by the
// level's codes (the _time condition, which the search range enforces,
// is not asked per row), and every answer is the reference's, on and off
// hour boundaries.
func TestSparseHourByTimeIndex(t *testing.T) {
	const streams = 40
	day := time.Date(2024, 5, 6, 0, 0, 0, 0, time.UTC)
	var recs []record.Record
	for s := range streams {
		for i := range 200 {
			recs = append(recs, record.Record{Time: day.Add(time.Duration(i*432+s) * time.Second).UnixNano(),
				Message: "request " + strconv.Itoa(i),
				Stream:  []record.Field{{Name: "app", Value: "svc" + strconv.Itoa(s)}},
				Fields:  []record.Field{{Name: "level", Value: []string{"info", "info", "warn", "error"}[(i+s)%4]}}})
		}
	}
	st := openSplitStore(t, recs, 8192, 1)
	at := func(m int) string { return day.Add(time.Duration(m) * time.Minute).Format(time.RFC3339) }
	for _, tc := range []struct {
		query string
		check func(s store.SearchStats) bool
	}{
		{"_time:[" + at(600) + " TO " + at(660) + "} | stats count() as n by app",
			func(s store.SearchStats) bool { return s.BlocksRead == 0 && s.BlocksCounted == streams }},
		{"_time:[" + at(600) + " TO " + at(660) + "} level:error | stats count() as n",
			func(s store.SearchStats) bool { return s.BlocksRead == streams && s.BlocksByCode == streams }},
		{"_time:[" + at(600) + " TO " + at(660) + "} level:error | stats count() as n by app",
			func(s store.SearchStats) bool { return s.BlocksByCode == streams }},
		{"_time:[" + at(630) + " TO " + at(660) + "} level:error | stats count() as n by level", nil},
		{"_time:[" + at(600) + " TO " + at(660) + "} | stats count() as n by _time:1m", nil},
		{"_time:>=" + at(1380) + " level:warn | stats count() as n", nil},
		{"_time:[" + at(600) + " TO " + at(660) + "} request", nil},
	} {
		var stats store.SearchStats
		compareQuery(t, st, sliceSearcher(recs), tc.query, 100000, &stats)
		if stats.Blocks != streams {
			t.Fatalf("%d blocks, want one a stream", stats.Blocks)
		}
		if tc.check != nil && !tc.check(stats) {
			t.Errorf("%s: %+v", tc.query, stats)
		}
	}
}

// TestHexColumnCutByTime groups and filters a trace id column stored as
// hex over ranges that cut its blocks (streams too sparse for
// hour-aligned blocks, some records without an id): the search spells
// only the ids of the rows the time index places in the range, and
// every answer is the reference's.
func TestHexColumnCutByTime(t *testing.T) {
	const streams = 6
	golden := uint64(0x9e3779b97f4a7c15)
	day := time.Date(2024, 5, 6, 0, 0, 0, 0, time.UTC)
	var recs []record.Record
	for s := range streams {
		for i := range 600 {
			r := record.Record{Time: day.Add(time.Duration(i*144+s) * time.Second).UnixNano(),
				Message: "request " + strconv.Itoa(i),
				Stream:  []record.Field{{Name: "app", Value: "svc" + strconv.Itoa(s)}}}
			if i%5 != s%5 { // a bitmap in every block
				// More distinct ids than a dictionary holds, each in a
				// few records.
				r.Fields = []record.Field{{Name: "trace_id", Value: fmt.Sprintf("%032x", uint64(i%307+s)*golden)}}
			}
			recs = append(recs, r)
		}
	}
	st := openSplitStore(t, recs, 8192, 1)
	at := func(m int) string { return day.Add(time.Duration(m) * time.Minute).Format(time.RFC3339) }
	one := fmt.Sprintf("%032x", 3*golden)
	for _, window := range [][2]int{{600, 660}, {0, 7}, {1433, 1440}, {700, 701}} {
		tr := "_time:[" + at(window[0]) + " TO " + at(window[1]) + "} "
		for _, q := range []string{
			tr + "| stats count() as n by trace_id | sort by n desc | limit 5",
			tr + "| stats count() as n by trace_id",
			tr + "trace_id:" + one + " | stats count() as n",
			tr + "NOT trace_id:" + one + " | stats count() as n by app",
			tr + "trace_id:*",
		} {
			var stats store.SearchStats
			compareQuery(t, st, sliceSearcher(recs), q, 100000, &stats)
			if stats.Blocks != streams {
				t.Fatalf("%s: %d blocks, want one a stream", q, stats.Blocks)
			}
		}
	}
}

func TestWithoutEnforcedTime(t *testing.T) {
	level := newPhraseFilter("level", "error", false)
	tf := func(from, to int64) timeFilter { return timeFilter{from: from, to: to} }
	for _, tc := range []struct {
		name     string
		f        store.Filter
		from, to int64
		want     store.Filter
	}{
		{"the range's own condition", andFilter{tf(10, 20), level}, 10, 20, level},
		{"a wider condition", andFilter{tf(5, maxTime), level}, 10, 20, level},
		{"open range, open condition", andFilter{tf(5, maxTime), level}, 10, 0, level},
		{"open range, bounded condition", andFilter{tf(5, 30), level}, 10, 0, andFilter{tf(5, 30), level}},
		{"a narrower condition", andFilter{tf(12, 20), level}, 10, 20, andFilter{tf(12, 20), level}},
		{"only time", andFilter{tf(10, 20), tf(0, 30)}, 10, 20, matchAllFilter{}},
		{"two others kept", andFilter{tf(10, 20), level, level}, 10, 20, andFilter{level, level}},
		{"not an AND", tf(10, 20), 10, 20, tf(10, 20)},
	} {
		if got := withoutEnforcedTime(tc.f, tc.from, tc.to); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %#v, want %#v", tc.name, got, tc.want)
		}
	}
}
