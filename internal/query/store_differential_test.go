package query

import (
	"context"
	"io"
	"log/slog"
	"math/rand"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/store"
)

// TestStoreDifferential runs random filters with counting and grouping
// pipes over a real store, with records both in parts (small blocks, one
// stream each) and in the head, and compares the answers with the
// brute-force searcher's. It covers the store's block-level shortcuts: a
// BlockMatcher's answer for a whole block and the bulk Count of stats
// count().
func TestStoreDifferential(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	recs := randomRecords(rng, 400)
	pipes := []string{
		// Parts hold a record's fields in name order, so records are
		// compared through fields, which fixes the order.
		" | fields _time, _stream, _msg, level, status, latency",
		" | stats count() as n",
		" | stats count() as n by service",
		" | stats count() as n by host, service",
		" | stats count() as n by _stream",
		" | stats count() as n by level",
		" | stats count() as n by _time:1s",
		" | stats count() as n, max(status) as m by service",
		" | stats count() as n by _time",
		" | stats count_uniq(service) as u",
		" | stats count_uniq(host) as u, count() as n by service",
		" | stats count_uniq(level) as u by _time:1s",
		" | stats count() as n by _time:1s, service",
		// Blocks inside one bucket are counted without their times.
		" | stats count() as n by _time:1h",
		" | stats count() as n by level, _time:1d",
	}
	total := checkStore(t, rng, recs, pipes, 300)
	// The shortcuts must have been taken, or this test proves little.
	if total.BlocksWhole == 0 || total.BlocksCounted == 0 || total.BlocksSkippedStream == 0 || total.RecordsCounted == 0 {
		t.Errorf("block-level shortcuts not exercised: %+v", total)
	}
	t.Logf("%+v", total)

	// Spread over 40 s, the records fall into many time buckets, which
	// the bulk count of a histogram splits blocks by.
	for i := range recs {
		recs[i].Time *= 1e5
	}
	pipes = []string{
		" | stats count() as n by _time:1s",
		" | stats count() as n by service, _time:5s",
		" | stats count() as n by _time:1s, level",
	}
	total = checkStore(t, rng, recs, pipes, 100)
	if total.RecordsCounted == 0 {
		t.Errorf("histograms were not counted in bulk: %+v", total)
	}
}

// TestStoreDifferentialCodes is TestStoreDifferential over fields of few
// distinct values in larger blocks, which the store keeps as
// dictionaries: it covers filtering once per distinct value
// (store.FieldFilter), counting grouped by a dictionary's codes
// (SearchRequest.CountFields) and the bounded sort before a limit.
func TestStoreDifferentialCodes(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	recs := randomRecords(rng, 400)
	for i := range recs {
		for j := range recs[i].Fields {
			recs[i].Fields[j].Value = diffValues[rng.Intn(3)]
		}
		// Over 40 ms, the histogram below has several buckets.
		recs[i].Time *= 100
	}
	pipes := []string{
		" | fields _time, _stream, _msg, level, status, latency",
		" | stats count() as n",
		" | stats count() as n by level",
		" | stats count() as n by status, service",
		" | stats count() as n by level, _time:5ms",
		" | stats count() as n, count_uniq(host) as u by _time:5ms, status",
		" | stats count() as n by level | sort by n desc | limit 2",
		" | stats count() as n by status, host | sort by n, status desc | limit 3",
		" | sort by level | limit 7 | fields _time, _msg, level, status",
		" | stats count_uniq(level) as u by status",
	}
	total := checkStoreBlocks(t, rng, recs, pipes, 200, 40)
	if total.BlocksByCode == 0 || total.RecordsCounted == 0 {
		t.Errorf("dictionary shortcuts not exercised: %+v", total)
	}
	t.Logf("%+v", total)
}

// checkStore stores recs, half in parts and half in the head, and
// compares the answers of iters random filters followed by each of pipes
// with the brute-force searcher's. It returns the store's account.
func checkStore(t *testing.T, rng *rand.Rand, recs []record.Record, pipes []string, iters int) store.SearchStats {
	t.Helper()
	return checkStoreBlocks(t, rng, recs, pipes, iters, 5)
}

// checkStoreBlocks is checkStore with blockRecords records per block.
func checkStoreBlocks(t *testing.T, rng *rand.Rand, recs []record.Record, pipes []string, iters, blockRecords int) store.SearchStats {
	t.Helper()
	st := openSplitStore(t, recs, blockRecords, 0.5)
	src := sliceSearcher(recs)
	var total store.SearchStats
	for iter := 0; iter < iters; iter++ {
		node := randomNode(rng, 3)
		for _, p := range pipes {
			compareQuery(t, st, src, node.String()+p, len(recs), &total)
		}
	}
	return total
}

// openSplitStore opens a store in t's temp dir with blockRecords records
// per block and appends recs: the first flushed share of them into parts,
// the rest left in the head. The store is closed when t ends.
func openSplitStore(t *testing.T, recs []record.Record, blockRecords int, flushed float64) *store.Store {
	t.Helper()
	st, err := store.Open(t.TempDir(), store.Options{BlockRecords: blockRecords}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	half := int(float64(len(recs)) * flushed)
	st.Append(recs[:half], uint64(half))
	if err := st.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	st.Append(recs[half:], uint64(len(recs)))
	return st
}

// compareEach runs every filter followed by every pipe through
// compareQuery and returns the store's account of them all.
func compareEach(t *testing.T, st, src store.Searcher, n int, filters, pipes []string) store.SearchStats {
	t.Helper()
	var total store.SearchStats
	for _, f := range filters {
		for _, p := range pipes {
			compareQuery(t, st, src, f+p, n, &total)
		}
	}
	return total
}

// compareQuery runs query over st and over src, the brute-force searcher
// of the same n records, and fails t when the answers differ. The store's
// account is added to total.
func compareQuery(t *testing.T, st, src store.Searcher, query string, n int, total *store.SearchStats) {
	t.Helper()
	q, err := Parse(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	want, err := runJSON(src, q, n)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	got, err := runJSONStats(st, q, n, total)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if got != want {
		t.Fatalf("%s:\n got %s\nwant %s", q, got, want)
	}
}

// runJSONStats is runJSON adding the store's account to stats.
func runJSONStats(src store.Searcher, q *Query, limit int, stats *store.SearchStats) (string, error) {
	var b []byte
	err := Execute(context.Background(), src, q, Options{Limit: limit, Now: time.Unix(1000, 0), Stats: stats}, func(r Row) error {
		b = append(r.AppendJSON(b), '\n')
		return nil
	})
	return string(b), err
}

// TestStoreCountLimits checks that counts passed in bulk keep the stats
// pipe's group limit: blocks counted from the index make groups too.
func TestStoreCountLimits(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.Options{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var recs []record.Record
	for i := range 30 {
		recs = append(recs, record.Record{Time: base + int64(i), Message: "m",
			Stream: []record.Field{{Name: "service", Value: "s" + strconv.Itoa(i%3)}}})
	}
	st.Append(recs, uint64(len(recs)))
	if err := st.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	q, err := Parse("* | stats count() as n by service")
	if err != nil {
		t.Fatal(err)
	}
	var stats store.SearchStats
	err = Execute(context.Background(), st, q, Options{MaxGroups: 2, Stats: &stats}, func(Row) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "MaxGroups") {
		t.Errorf("three groups with MaxGroups 2: err = %v", err)
	}
	if stats.BlocksCounted == 0 {
		t.Errorf("no block was counted in bulk: %+v", stats)
	}
}

// TestStoreDifferentialPresence compares filters on a field's presence
// alone (store.PresenceFilter) with the brute-force searcher's answers,
// over streams whose blocks hold the field in every row, in none, in
// some, or in every row but empty in some: the store decides the first
// two kinds of block from the index and the column directory.
func TestStoreDifferentialPresence(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	recs := make([]record.Record, 600)
	for i := range recs {
		svc := []string{"full", "none", "some", "empty"}[i%4]
		r := record.Record{Time: int64(i) * 1000, Message: "m" + strconv.Itoa(i),
			Stream: []record.Field{{Name: "service", Value: svc}}}
		var trace string
		switch svc {
		case "full":
			trace = strconv.Itoa(rng.Intn(1000))
		case "some":
			if rng.Intn(2) == 0 {
				trace = "t" + strconv.Itoa(i)
			}
		case "empty":
			trace = "x"
			if rng.Intn(3) == 0 {
				trace = ""
			}
		}
		if trace != "" || svc == "empty" {
			r.Fields = append(r.Fields, record.Field{Name: "trace", Value: trace})
		}
		r.Fields = append(r.Fields, record.Field{Name: "level", Value: diffValues[rng.Intn(3)]})
		recs[i] = r
	}
	rng.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
	st := openSplitStore(t, recs, 20, 0.5)
	src := sliceSearcher(recs)
	filters := []string{"trace:*", "NOT trace:*", "trace:* OR trace:*", "NOT (trace:* AND trace:*)",
		"trace:* AND level:*", "NOT trace:* OR trace:x", "_time:[1970-01-01T00:00:00.1Z TO 1970-01-01T00:00:00.3Z} AND NOT trace:*"}
	pipes := []string{" | stats count() as n", " | stats count() as n by service", " | stats count() as n by level",
		" | fields _time, _stream, _msg, trace, level"}
	total := compareEach(t, st, src, len(recs), filters, pipes)
	// Blocks of the "full" and "none" streams are decided without reading
	// them: counted from the index, or skipped.
	if total.BlocksCounted == 0 || total.BlocksSkippedIndex == 0 {
		t.Errorf("presence shortcuts not exercised: %+v", total)
	}
	t.Logf("%+v", total)
}

// TestStoreDifferentialDecimals compares filters and stats over a field of
// many distinct decimals, which parts store as a decimal column
// (store.NumberFilter), with the brute-force searcher's answers. One
// stream mixes scales, so its blocks keep the text.
func TestStoreDifferentialDecimals(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	recs := make([]record.Record, 800)
	for i := range recs {
		svc := []string{"ms", "us", "mixed", "neg"}[i%4]
		var v string
		switch svc {
		case "ms":
			v = strconv.FormatFloat(float64(rng.Intn(2_000_000))/1000, 'f', 3, 64)
		case "us":
			v = strconv.Itoa(rng.Intn(5000))
		case "mixed":
			v = strconv.FormatFloat(float64(rng.Intn(20000))/10, 'f', rng.Intn(3), 64)
		case "neg":
			v = strconv.FormatFloat(float64(rng.Intn(20000)-10000)/100, 'f', 2, 64)
		}
		r := record.Record{Time: int64(i) * 1000, Message: "m" + strconv.Itoa(i),
			Stream: []record.Field{{Name: "service", Value: svc}}}
		if rng.Intn(5) > 0 {
			r.Fields = append(r.Fields, record.Field{Name: "latency", Value: v})
		}
		r.Fields = append(r.Fields, record.Field{Name: "level", Value: diffValues[rng.Intn(3)]})
		recs[i] = r
	}
	rng.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
	st := openSplitStore(t, recs, 40, 0.5)
	src := sliceSearcher(recs)
	filters := []string{"latency:>1000", "latency:>=12.5", "latency:<0", "latency:[100 TO 200]", "latency:{-5 TO 5}",
		"NOT latency:>1000", "latency:<=999.999", "latency:*", "NOT latency:*", `latency:="1500"`, "latency:>abc",
		"latency:>1000 OR latency:<10", "latency:>1000 AND level:*"}
	pipes := []string{" | stats count() as n", " | stats count() as n by service",
		" | stats max(latency) as m, min(latency) as l by service",
		" | fields _time, _stream, _msg, latency, level"}
	compareEach(t, st, src, len(recs), filters, pipes)
}

// TestStoreDifferentialHexIDs compares word, exact and pattern filters on
// a field of 32-digit ids, which parts store as a hex column, with the
// brute-force searcher's answers. Blocks of few records and a small pool
// of ids make many blocks whose column holds no searched id, which the
// store rules out without decoding them (store.TokenFilter); one stream
// mixes ids of other lengths and upper case, so its blocks keep the text.
func TestStoreDifferentialHexIDs(t *testing.T) {
	rng := rand.New(rand.NewSource(6))
	ids := make([]string, 40)
	for i := range ids {
		ids[i] = strconv.FormatUint(rng.Uint64()|1<<63, 16) + strconv.FormatUint(rng.Uint64()|1<<63, 16)
	}
	recs := make([]record.Record, 800)
	for i := range recs {
		svc := []string{"a", "b", "mixed"}[i%3]
		id := ids[rng.Intn(len(ids))]
		if svc == "mixed" && rng.Intn(4) == 0 {
			id = []string{strings.ToUpper(id), id[:16], "x" + id[1:]}[rng.Intn(3)]
		}
		r := record.Record{Time: int64(i) * 1000, Message: "m" + strconv.Itoa(i),
			Stream: []record.Field{{Name: "service", Value: svc}}}
		if rng.Intn(6) > 0 {
			r.Fields = append(r.Fields, record.Field{Name: "trace", Value: id})
		}
		r.Fields = append(r.Fields, record.Field{Name: "level", Value: diffValues[rng.Intn(3)]})
		recs[i] = r
	}
	rng.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
	st := openSplitStore(t, recs, 16, 0.7)
	src := sliceSearcher(recs)
	a, b := ids[3], ids[5]
	filters := []string{"trace:" + a, "trace:" + strings.ToUpper(a), `trace:="` + a + `"`, `trace:="` + strings.ToUpper(a) + `"`,
		"trace:" + a[:16], "trace:" + a[:31], "trace:" + a[:10] + "*", "trace:x" + a[1:], "trace:00000000000000000000000000000000",
		"trace:" + a + " AND trace:" + b, "trace:" + a + " OR trace:" + b, "NOT trace:" + a, "trace:" + a + " AND level:*",
		"trace:" + a + " AND NOT trace:" + b, "trace:*" + a[4:12] + "*", "trace:/" + a[:8] + "/", `trace:"` + a + `"`}
	pipes := []string{" | stats count() as n", " | stats count() as n by service",
		" | fields _time, _stream, _msg, trace, level"}
	total := compareEach(t, st, src, len(recs), filters, pipes)
	if total.BlocksRejected == 0 {
		t.Errorf("no block rejected by its hex column: %+v", total)
	}
	t.Logf("%+v", total)
}
