package store

import (
	"context"
	"errors"
	"testing"

	"github.com/sluice-log/sluice/internal/record"
)

// TestScanLimits: a search that would decode more records, or read more
// bytes, than its request allows stops with a *ScanLimitError naming the
// bound; one within both bounds answers in full. Both the parts and the
// head are charged.
func TestScanLimits(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir(), Options{BlockRecords: 64})
	defer s.Close()
	recs := make([]record.Record, 1000)
	for i := range recs {
		recs[i] = record.Record{Time: testBase + int64(i), Stream: []record.Field{{Name: "app", Value: "a"}}, Message: "line"}
	}
	s.Append(recs, uint64(len(recs)))
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	s.Append(recs[:100], uint64(len(recs)+100)) // in the head
	head := openTest(t, t.TempDir(), Options{})
	defer head.Close()
	head.Append(recs[:100], 100)
	var le *ScanLimitError
	if err := head.Search(ctx, SearchRequest{MaxScannedRecords: 99}, func(*record.Record) error { return nil }); !errors.As(err, &le) {
		t.Fatalf("head records past the bound: err = %v", err)
	}
	// The first search reads the block headers that later ones find kept.
	var all SearchStats
	for range 2 {
		all = SearchStats{}
		n := 0
		if err := s.Search(ctx, SearchRequest{Stats: &all}, func(*record.Record) error { n++; return nil }); err != nil || n != 1100 {
			t.Fatalf("unbounded search: %d records, %v", n, err)
		}
	}
	tests := []struct {
		name      string
		records   int64
		bytes     int64
		wantBytes bool
		fail      bool
	}{
		{name: "records within", records: 1100},
		{name: "records past", records: 1099, fail: true},
		{name: "bytes within", bytes: all.BytesRead},
		{name: "bytes past", bytes: all.BytesRead - 1, wantBytes: true, fail: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := SearchRequest{MaxScannedRecords: tc.records, MaxScannedBytes: tc.bytes}
			err := s.Search(ctx, req, func(*record.Record) error { return nil })
			var le *ScanLimitError
			if !tc.fail {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if !errors.As(err, &le) || le.Bytes != tc.wantBytes {
				t.Fatalf("err = %v, want a ScanLimitError (bytes=%v)", err, tc.wantBytes)
			}
			if want := max(tc.records, tc.bytes); le.Max != want {
				t.Fatalf("Max = %d, want %d", le.Max, want)
			}
		})
	}
}
