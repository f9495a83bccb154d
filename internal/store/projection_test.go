package store

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/record"
)

// filterFields lists the fields a test filter reads.
func filterFields(f *testFilter, dst []string) []string {
	if f.field != "" {
		dst = append(dst, f.field)
	}
	for _, s := range f.subs {
		dst = filterFields(s, dst)
	}
	return dst
}

// project renders what a search with SearchRequest.Fields promises: time,
// tenant, stream and the values of the needed fields.
func project(r *record.Record, need []string) string {
	var b strings.Builder
	b.WriteString(r.Tenant + "|" + record.StreamString(r.Stream) + "|" + record.FormatFloat(float64(r.Time)))
	for _, f := range need {
		v, ok := r.Get(f)
		if ok {
			b.WriteString("|" + f + "=" + v)
		}
	}
	return b.String()
}

// TestSearchFieldsProjection checks that a search restricted to the
// fields its filter reads returns the same records, with the same values
// for those fields, as a brute-force scan; in the head and in parts.
func TestSearchFieldsProjection(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	s := openTest(t, t.TempDir(), Options{BlockRecords: 40})
	defer s.Close()
	all := genRecords(rng, 1500, 0)
	s.Append(all[:1000], 1)
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.Append(all[1000:], 2)
	for i := range 80 {
		f := randFilter(rng, 2)
		need := filterFields(f, []string{"level"})
		if i%10 == 0 {
			need = []string{} // count only
			f = nil
		}
		for _, tenant := range testTenants {
			req := SearchRequest{Tenant: tenant, Filter: f, Fields: need}
			if f == nil {
				req.Filter = nil
			}
			var want []string
			for j := range all {
				r := &all[j]
				if r.Tenant == tenant && (f == nil || f.Match(r)) {
					want = append(want, project(r, need))
				}
			}
			var got []string
			err := s.Search(context.Background(), req, func(r *record.Record) error {
				got = append(got, project(r, need))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("filter %v fields %v tenant %q: got %d records, want %d", f, need, tenant, len(got), len(want))
			}
		}
	}
}

// TestSearchFieldsValuesOutliveBlock keeps the strings a projected search
// passes (not copies) across later searches: a projection decodes blocks
// from a reused buffer, and the values it keeps must not alias it, because
// the query engine holds such strings, e.g. as group keys.
func TestSearchFieldsValuesOutliveBlock(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	s := openTest(t, t.TempDir(), Options{BlockRecords: 30})
	defer s.Close()
	all := genRecords(rng, 600, 0)
	s.Append(all, 1)
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	tenant := testTenants[0]
	for _, need := range [][]string{{"id", "level"}, {"id", "level", record.MessageField}} {
		var want []string
		for i := range all {
			if r := &all[i]; r.Tenant == tenant {
				want = append(want, project(&record.Record{Message: r.Message, Fields: r.Fields}, need))
			}
		}
		var kept []record.Record // the strings as passed, not copies
		err := s.Search(context.Background(), SearchRequest{Tenant: tenant, Fields: need}, func(r *record.Record) error {
			kept = append(kept, record.Record{Message: r.Message, Fields: slices.Clone(r.Fields)})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// Later searches reuse and overwrite the decoding buffers.
		for _, fields := range [][]string{nil, {"user"}, {record.MessageField}} {
			if err := s.Search(context.Background(), SearchRequest{Tenant: tenant, Fields: fields}, func(*record.Record) error { return nil }); err != nil {
				t.Fatal(err)
			}
		}
		var got []string
		for i := range kept {
			got = append(got, project(&kept[i], need))
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("fields %v: kept values differ from the records (%d vs %d)", need, len(got), len(want))
		}
	}
}
