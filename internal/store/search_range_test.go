package store

import (
	"context"
	"maps"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/record"
)

// TestCountRange checks countRange, countCovered over the rows [lo, hi)
// of a block, against the row-by-row count of those rows, for every
// window of TestCountCovered's columns: it must count a window exactly
// or decline (a column with absent rows).
func TestCountRange(t *testing.T) {
	const rows = countCaseRows
	for _, tt := range countCases() {
		t.Run(tt.name, func(t *testing.T) {
			var cc codeCount
			if tt.group != nil {
				cc = codeCount{group: "g", cur: *tt.group}
			}
			// A column with absent rows is declined.
			declines := cc.cur.bitmap != "" || tt.sel != nil && !tt.sel.byRow && tt.sel.cur.bitmap != ""
			for lo := 0; lo <= rows; lo++ {
				for hi := lo; hi <= rows; hi++ {
					var got codeCounts
					ok := countRange(&got, new(quadCounts), lo, hi, tt.sel, cc, tt.same)
					if ok == declines {
						t.Fatalf("[%d, %d): countRange reported %v", lo, hi, ok)
					}
					if !ok {
						continue
					}
					if want := slowRangeCounts(rows, lo, hi, tt.sel, cc); got != want {
						t.Fatalf("[%d, %d): got %v, want %v", lo, hi, nonZero(&got), nonZero(&want))
					}
				}
			}
		})
	}
}

// slowRangeCounts is countByCode's row loop over the rows [lo, hi).
func slowRangeCounts(rows, lo, hi int, sel *codeSelection, cc codeCount) codeCounts {
	var counts codeCounts
	gc := cc.cur
	if sel != nil {
		sel.rewind()
	}
	for row := range rows {
		code := 0
		if cc.group != "" {
			code = gc.next(row)
		}
		if sel != nil && !sel.next(row) || row < lo || row >= hi {
			continue
		}
		counts[code]++
	}
	return counts
}

// TestCountCutBlocks counts by a dictionary column (a level filter,
// `count() by level`, `count()`) over ranges that cut a part's blocks at
// one or both ends, aligned to the time index's spans or not, inside one
// span or across several, in blocks whose times are sorted or not and
// whose level column has absent rows or not, and compares with a scan of
// the records.
func TestCountCutBlocks(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir(), Options{BlockRecords: 500})
	defer s.Close()
	rng := rand.New(rand.NewPCG(7, 8))
	levels := []string{"debug", "info", "warn", "error"}
	var all []record.Record
	add := func(app string, from, step time.Duration, n int, sparse, shuffled bool) {
		var recs []record.Record
		for i := range n {
			r := record.Record{Tenant: "t", Time: testBase + int64(from+time.Duration(i)*step),
				Stream: []record.Field{{Name: "app", Value: app}}, Message: "m"}
			if !sparse || rng.IntN(5) != 0 {
				r.Fields = []record.Field{{Name: "level", Value: levels[min(rng.IntN(6), 3)]}}
			}
			recs = append(recs, r)
		}
		if shuffled {
			rng.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
		}
		all = append(all, recs...)
		s.Append(recs, uint64(len(all)))
	}
	// A sparse stream's blocks span hours, a dense one's minutes.
	add("sparse", 0, 37*time.Second, 1500, false, false)
	add("gaps", 13*time.Second, 41*time.Second, 1500, true, false)
	add("dense", 90*time.Minute, 100*time.Millisecond, 3000, false, false)
	add("shuffled", 20*time.Minute, 11*time.Second, 1200, false, true)
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	at := func(d time.Duration) int64 { return testBase + int64(d) }
	ranges := []struct {
		name     string
		from, to int64
	}{
		{"aligned hour", at(time.Hour), at(2 * time.Hour)},
		{"non-aligned hour", at(90*time.Minute + 17*time.Second), at(150*time.Minute + 17*time.Second)},
		{"cut at the start", at(95 * time.Minute), 0},
		{"cut at the end", 0, at(95*time.Minute + 3*time.Second)},
		{"inside one span", at(90*time.Minute + 100*time.Second), at(91 * time.Minute)},
		{"between two rows", at(37*time.Second + 1), at(74 * time.Second)},
		{"one row", at(74 * time.Second), at(74*time.Second + 1)},
		{"empty", at(50 * time.Hour), at(51 * time.Hour)},
	}
	for _, rg := range ranges {
		for _, q := range []struct {
			name   string
			filter Filter
			group  string
		}{
			{"level filter", &testFilter{kind: "word", field: "level", word: "error"}, ""},
			{"count by level", nil, "level"},
			{"count", nil, ""},
			{"level filter by app", &testFilter{kind: "word", field: "level", word: "warn"}, "app"},
		} {
			req := SearchRequest{Tenant: "t", From: rg.from, To: rg.to, Filter: q.filter, Fields: []string{"level"}}
			if q.group != "" {
				req.CountFields = []string{q.group}
			}
			got := map[string]int{}
			req.Count = func(r *record.Record, n int, _ []int64) error {
				got[groupKey(r, q.group, 0)] += n
				return nil
			}
			err := s.Search(ctx, req, func(r *record.Record) error {
				got[groupKey(r, q.group, 0)]++
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if want := groupCounts(all, req, q.group); !maps.Equal(got, want) {
				t.Errorf("%s, %s: got %v, want %v", rg.name, q.name, got, want)
			}
		}
	}
}
