package query

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/record"
)

// resultBytesCase is a query whose kept records meet a bound of max bytes
// (one is what a record of the test's sources keeps).
type resultBytesCase struct {
	name    string
	query   string
	limit   int
	max     int64
	wantErr bool
}

func resultBytesCases(one int64) []resultBytesCase {
	return []resultBytesCase{
		{"10 records within the bound", "*", 10, 10 * one, false},
		{"11 records over it", "*", 11, 10 * one, true},
		{"every record over it, though only the newest 10 are printed", "* | limit 10", 60, 10 * one, true},
		{"an aggregation keeps no records", "* | stats count() as n", 60, one, false},
		{"no bound", "*", 60, 0, false},
	}
}

// check checks a query's error, the most its meter held while it answered
// and what it holds once the query returned (nothing, failed or not).
func (tc resultBytesCase) check(t *testing.T, err error, held, after, one int64) {
	t.Helper()
	var re *ResultLimitError
	if got := errors.As(err, &re); got != tc.wantErr || got && re.Max != tc.max {
		t.Fatalf("err = %v, want a ResultLimitError: %v", err, tc.wantErr)
	}
	if after != 0 {
		t.Fatalf("the meter holds %d bytes after the query", after)
	}
	if keeps := !tc.wantErr && !strings.Contains(tc.query, "stats"); keeps != (held >= int64(tc.limit)*one) {
		t.Fatalf("the meter held %d bytes while %d records of %d bytes were answered", held, tc.limit, one)
	}
}

// TestMaxResultBytes: a search whose kept records pass Options.MaxResultBytes
// stops with a *ResultLimitError instead of answering fewer records; within
// it, or with pipes that aggregate (which keep no records), it answers; the
// records around a hit are bounded the same way.
func TestMaxResultBytes(t *testing.T) {
	base := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	var src sliceSearcher
	for i := range 100 {
		src = append(src, record.Record{Time: base.Add(time.Duration(i) * time.Second).UnixNano(),
			Stream: []record.Field{{Name: "host", Value: "a"}}, Message: strings.Repeat("x", 1000)})
	}
	one := keptBytes(&src[0])
	for _, tc := range resultBytesCases(one) {
		t.Run(tc.name, func(t *testing.T) {
			q, err := Parse(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			// The meter holds what the query keeps while it answers, and
			// nothing once it returned, whether it failed or not.
			var meter ResultMeter
			var held int64
			err = Execute(context.Background(), src, q, Options{Limit: tc.limit, MaxResultBytes: tc.max, Results: &meter}, func(Row) error {
				held = max(held, meter.Bytes())
				return nil
			})
			tc.check(t, err, held, meter.Bytes(), one)
		})
	}
	hit := src[50]
	if _, err := Context(context.Background(), src, hit.StreamString(), hit.Time, 20, 20, Options{MaxResultBytes: 10 * one}); !errors.As(err, new(*ResultLimitError)) {
		t.Fatalf("context of 20 records a side within 10 records' bytes: %v", err)
	}
	var meter ResultMeter
	got, err := Context(context.Background(), src, hit.StreamString(), hit.Time, 5, 5, Options{MaxResultBytes: 10 * one, Results: &meter})
	if err != nil || len(got.Before) != 5 || len(got.After) != 5 || meter.Bytes() != 0 {
		t.Fatalf("context of 5 a side: %d, %d, %v", len(got.Before), len(got.After), err)
	}
}

// Records of one time come out in the order they were offered (the last
// first when newest first), whatever the heap's shape; at the limit the
// later of equal records is kept.
func TestNewestHeapTies(t *testing.T) {
	offers := []struct {
		t   int64
		msg string
	}{{1, "a"}, {2, "b"}, {2, "c"}, {2, "d"}, {1, "e"}, {2, "f"}, {0, "g"}}
	for _, tc := range []struct {
		limit  int
		oldest bool
		want   []string
	}{
		{10, false, []string{"f", "d", "c", "b", "e", "a", "g"}},
		{3, false, []string{"f", "d", "c"}},
		{10, true, []string{"g", "a", "e", "b", "c", "d", "f"}},
		{4, true, []string{"g", "a", "e", "b"}},
	} {
		h := newestHeap{limit: tc.limit, oldest: tc.oldest}
		for _, o := range offers {
			if err := h.offer(&record.Record{Time: o.t, Message: o.msg}); err != nil {
				t.Fatal(err)
			}
		}
		var got []string
		for _, r := range h.sorted() {
			got = append(got, r.Message)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("limit %d oldest %v: %v, want %v", tc.limit, tc.oldest, got, tc.want)
		}
	}
}

// TestMergeMaxResultBytes: a querier's merge of the indexers' answers
// keeps its records within Options.MaxResultBytes and charges them to
// Options.Results until Close, as a local search does; so does the merge
// of the records around a hit.
func TestMergeMaxResultBytes(t *testing.T) {
	base := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	var shards [3]sliceSearcher
	for i := range 90 {
		shards[i%3] = append(shards[i%3], record.Record{Time: base.Add(time.Duration(i) * time.Second).UnixNano(),
			Stream: []record.Field{{Name: "host", Value: "a"}}, Message: strings.Repeat("x", 1000)})
	}
	one := keptBytes(&shards[0][0])
	ctx := context.Background()
	for _, tc := range resultBytesCases(one) {
		t.Run(tc.name, func(t *testing.T) {
			q, err := Parse(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			var meter ResultMeter
			var held int64
			opts := Options{Limit: tc.limit, MaxResultBytes: tc.max, Results: &meter}
			m, err := NewMerge(q, opts, func(Row) error {
				held = max(held, meter.Bytes())
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range shards {
				// The indexers answer under no bound: the merge's is
				// what is tested.
				b, perr := ExecutePartial(ctx, s, q, Options{Limit: tc.limit})
				if perr != nil {
					t.Fatal(perr)
				}
				if err = m.Add(b); err != nil {
					break
				}
			}
			if err == nil {
				err = m.Finish()
			}
			if meter.Bytes() == 0 && !strings.Contains(tc.query, "stats") {
				t.Fatalf("the merge charged nothing to the meter for %d records kept", tc.limit)
			}
			m.Close()
			tc.check(t, err, held, meter.Bytes(), one)
		})
	}
	hit := shards[1][10]
	var parts [][]byte
	for _, s := range shards {
		b, err := ContextPartial(ctx, s, hit.StreamString(), hit.Time, 20, 20, Options{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, b)
	}
	var meter ResultMeter
	if _, err := MergeContext(parts, 20, 20, Options{MaxResultBytes: 10 * one, Results: &meter}); !errors.As(err, new(*ResultLimitError)) || meter.Bytes() != 0 {
		t.Fatalf("merged context of 20 records a side within 10 records' bytes: %v, meter %d", err, meter.Bytes())
	}
	got, err := MergeContext(parts, 5, 5, Options{MaxResultBytes: 10 * one, Results: &meter})
	if err != nil || len(got.Before) != 5 || len(got.After) != 5 || meter.Bytes() != 0 {
		t.Fatalf("merged context of 5 a side: %d, %d, %v, meter %d", len(got.Before), len(got.After), err, meter.Bytes())
	}
}
