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
		" | stats count() as n by level | sort by n desc | limit 2",
		" | stats count() as n by status, host | sort by n, status desc | limit 3",
		" | sort by level | limit 7 | fields _time, _msg, level, status",
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
	st, err := store.Open(t.TempDir(), store.Options{BlockRecords: blockRecords}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	half := len(recs) / 2
	st.Append(recs[:half], uint64(half))
	if err := st.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	st.Append(recs[half:], uint64(len(recs)))
	src := sliceSearcher(recs)
	var total store.SearchStats
	for iter := 0; iter < iters; iter++ {
		node := randomNode(rng, 3)
		for _, p := range pipes {
			q, err := Parse(node.String() + p)
			if err != nil {
				t.Fatalf("%s%s: %v", node, p, err)
			}
			want, err := runJSON(src, q, len(recs))
			if err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			got, err := runJSONStats(st, q, len(recs), &total)
			if err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			if got != want {
				t.Fatalf("%s:\n got %s\nwant %s", q, got, want)
			}
		}
	}
	return total
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
