package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/record"
)

// TestHeadSharedFields: the fields every record of an appended run shares
// are kept once per head chunk, and records read back whole (all fields,
// or the ones a search needs, sorted by name) from the head and from
// parts, across chunk boundaries and runs of several tenants.
func TestHeadSharedFields(t *testing.T) {
	var recs []record.Record
	for i := range 6000 { // ~150 bytes a record: past one 256 KiB chunk
		r := record.Record{Time: int64(1_700_000_000_000_000_000 + i), Tenant: "a",
			Stream:  []record.Field{{Name: "host", Value: fmt.Sprint("h", i%3)}},
			Message: fmt.Sprintf("request %d %s", i, strings.Repeat("x", 60)),
			Fields: []record.Field{{Name: "_index", Value: "logs"}, {Name: "status", Value: fmt.Sprint(200 + i%5)},
				{Name: "agent", Value: "filebeat"}, {Name: "path", Value: fmt.Sprint("/p/", i)}}}
		if i >= 5000 {
			r.Tenant = "b"
		}
		if i == 999 {
			r.Fields = r.Fields[1:] // the first batch shares nothing
		}
		recs = append(recs, r)
	}
	s := openTest(t, t.TempDir(), Options{BlockRecords: 500})
	defer s.Close()
	s.Append(recs[:3000], 1)
	s.Append(recs[3000:], 2)
	if n := len(s.active.chunks); n < 3 {
		t.Fatalf("the head has %d chunks; the test wants a run across chunks", n)
	}
	// The second batch's records are stored without their shared fields.
	var c headCursor
	for _, hs := range s.active.list {
		for _, off := range hs.offs {
			c = cursorAt(s.active.chunks, off)
			c.varint()
			c.skip()
		}
	}
	if back := c.uvarint(); back == 0 {
		t.Fatal("the last record appended does not refer to shared fields")
	}
	check := func(stage string) {
		t.Helper()
		for _, tenant := range []string{"a", "b"} {
			req := SearchRequest{Tenant: tenant}
			if got, want := searchAll(t, s, req), bruteForce(recs, req); !slices.Equal(got, want) {
				t.Fatalf("%s, tenant %s: %d records, want %d (first %q, want %q)", stage, tenant, len(got), len(want), got[:min(1, len(got))], want[:min(1, len(want))])
			}
			need := []string{"_index", "path"}
			var got, want []string
			err := s.Search(context.Background(), SearchRequest{Tenant: tenant, Fields: need}, func(r *record.Record) error {
				if !slices.IsSortedFunc(r.Fields, func(a, b record.Field) int { return strings.Compare(a.Name, b.Name) }) {
					t.Fatalf("%s: fields out of order: %v", stage, r.Fields)
				}
				got = append(got, project(r, need))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			for i := range recs {
				if recs[i].Tenant == tenant {
					want = append(want, project(&recs[i], need))
				}
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("%s, tenant %s, fields %v: %d records differ from %d", stage, tenant, need, len(got), len(want))
			}
		}
	}
	check("head")
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	check("parts")
}
