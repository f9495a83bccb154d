package query

import (
	"math/rand"
	"strconv"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/store"
)

// TestStoreDifferentialRawGroups is TestStoreDifferential for counts
// grouped by a field of many distinct values (a trace id), which the
// store keeps as raw columns and counts value by value without building
// rows, over _time ranges that cut blocks: it covers counting by a raw
// column, blocks whose rows match but for the range (their times
// checked), the per-group key copy of a high-cardinality stats and the
// bounded sort that skips groups without building their rows.
func TestStoreDifferentialRawGroups(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	recs := randomRecords(rng, 600)
	for i := range recs {
		r := &recs[i]
		// 1 ms apart: _time bounds below cut blocks at random rows.
		r.Time *= 1000
		switch k := rng.Intn(10); {
		case k == 0: // no trace
		case k < 4: // a few traces that repeat, often in runs
			r.Fields = append(r.Fields, record.Field{Name: "trace", Value: "t" + strconv.Itoa(rng.Intn(6))})
		default: // mostly distinct ids
			r.Fields = append(r.Fields, record.Field{Name: "trace", Value: strconv.FormatInt(rng.Int63(), 16)})
		}
	}
	// Parts keep records in time order per stream: runs of one trace come
	// from neighbouring records.
	for i := 1; i < len(recs); i += 7 {
		recs[i].Fields = append([]record.Field(nil), recs[i-1].Fields...)
	}
	st := openSplitStore(t, recs, 40, 0.75)
	src := sliceSearcher(recs)

	pipes := []string{
		" | stats count() as n by trace",
		" | stats count() as n by trace | sort by n desc | limit 5",
		" | stats count() as n by trace, service | sort by n desc, trace | limit 4",
		" | stats count() as n by trace, _time:50ms",
		" | stats count() as n, max(status) as m by trace | sort by m desc | limit 3",
		" | stats count() as n by level | sort by level desc | limit 2",
		" | top 3 by trace",
		" | stats count_uniq(trace) as u by service",
	}
	at := func(ms int) string { return time.Unix(0, int64(ms)*1e6).UTC().Format(time.RFC3339Nano) }
	var total store.SearchStats
	for iter := range 150 {
		lo := rng.Intn(700) - 50
		tr := "_time:[" + at(lo) + " TO " + at(lo+1+rng.Intn(400)) + "}"
		filter := tr
		switch iter % 3 {
		case 1:
			filter = tr + " AND " + randomNode(rng, 2).String()
		case 2:
			filter = randomNode(rng, 2).String()
		}
		for _, p := range pipes {
			compareQuery(t, st, src, filter+p, len(recs), &total)
		}
	}
	if total.BlocksByCode == 0 || total.RecordsCounted == 0 {
		t.Errorf("raw counting not exercised: %+v", total)
	}
	t.Logf("%+v", total)
}

// TestStoreDifferentialDenseCodes is TestStoreDifferentialCodes with
// every record holding every field, so that blocks hold dictionary
// columns without presence bitmaps: it covers counting a block inside
// the range by the codes of one column selected by the codes of another
// (and of itself) in one pass over both.
func TestStoreDifferentialDenseCodes(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	recs := randomRecords(rng, 400)
	for i := range recs {
		recs[i].Fields = recs[i].Fields[:0]
		for _, f := range []string{"latency", "level", "status"} {
			recs[i].Fields = append(recs[i].Fields, record.Field{Name: f, Value: diffValues[rng.Intn(4)]})
		}
	}
	pipes := []string{
		" | stats count() as n",
		" | stats count() as n by level",
		" | stats count() as n by status, service",
		" | stats count() as n by latency | sort by n desc | limit 2",
	}
	total := checkStoreBlocks(t, rng, recs, pipes, 150, 50)
	if total.BlocksByCode == 0 || total.RecordsCounted == 0 {
		t.Errorf("dictionary shortcuts not exercised: %+v", total)
	}
	t.Logf("%+v", total)
}

// TestCountUniqStreamFieldReadsNoBlock checks that count_uniq of a stream
// field is answered from the blocks' stream labels: with every record in
// parts and no filter, no block is read, and the answer is exact.
func TestCountUniqStreamFieldReadsNoBlock(t *testing.T) {
	var recs []record.Record
	for i := range 400 {
		recs = append(recs, record.Record{Time: int64(i) * 1e6, Message: "m " + strconv.Itoa(i),
			Stream: []record.Field{{Name: "app", Value: "a" + strconv.Itoa(i%7)}, {Name: "node", Value: "n" + strconv.Itoa(i%13)}},
			Fields: []record.Field{{Name: "level", Value: []string{"info", "warn"}[i%2]}}})
	}
	st := openSplitStore(t, recs, 10, 1)
	for _, tc := range []struct {
		query, want string
		read        bool
	}{
		{"* | stats count_uniq(node) as u", `{"u":13}`, false},
		{"* | stats count_uniq(node) as u by app", "", false},
		{"* | stats count_uniq(node) as u, count() as n", `{"u":13,"n":400}`, false},
		// A field that is no label is read from the blocks.
		{"* | stats count_uniq(level) as u", `{"u":2}`, true},
	} {
		q, err := Parse(tc.query)
		if err != nil {
			t.Fatal(err)
		}
		var stats store.SearchStats
		got, err := runJSONStats(st, q, 1000, &stats)
		if err != nil {
			t.Fatal(err)
		}
		want, err := runJSON(sliceSearcher(recs), q, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if got != want || tc.want != "" && got != tc.want+"\n" {
			t.Errorf("%s: got %s, want %s", tc.query, got, want)
		}
		if read := stats.BlocksRead > 0; read != tc.read {
			t.Errorf("%s: %d blocks read of %d, want read=%v", tc.query, stats.BlocksRead, stats.Blocks, tc.read)
		}
	}
}
