package query

import (
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
		q, err := Parse(tc.query)
		if err != nil {
			t.Fatal(err)
		}
		var stats store.SearchStats
		got, err := runJSONStats(st, q, 100000, &stats)
		if err != nil {
			t.Fatal(err)
		}
		want, err := runJSON(sliceSearcher(recs), q, 100000)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s: got %.200s, want %.200s", tc.query, got, want)
		}
		if stats.BlocksRead > tc.maxBlocks || stats.RecordsScanned > tc.maxRecords {
			t.Errorf("%s: read %d of %d blocks, %d records; want at most %d blocks, %d records",
				tc.query, stats.BlocksRead, stats.Blocks, stats.RecordsScanned, tc.maxBlocks, tc.maxRecords)
		}
		t.Logf("%s: read %d of %d blocks, %d records scanned", tc.query, stats.BlocksRead, stats.Blocks, stats.RecordsScanned)
	}
}
