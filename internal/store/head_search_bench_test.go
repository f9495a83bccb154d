package store

import (
	"context"
	"testing"

	"github.com/sluice-log/sluice/internal/record"
)

// BenchmarkHeadTokenSearch searches the in-memory head, holding the bench
// data set's 200,000 records (as a head does under ingest between two
// flushes), for a trace id that is not there and for a word of the
// message that is rare, as `trace_id:…` and `timeout` ask the newest
// records of a live node.
func BenchmarkHeadTokenSearch(b *testing.B) {
	recs, err := benchGenRecords()
	if err != nil {
		b.Fatal(err)
	}
	s := openTest(b, b.TempDir(), Options{})
	for i := 0; i < len(recs); i += 1000 {
		s.Append(recs[i:min(i+1000, len(recs))], uint64(i+1))
	}
	for _, f := range []idFilter{
		{field: "trace_id", toks: []string{"4bf92f3577b34da6a3ce929d0e0e4736"}},
		{field: record.MessageField, toks: []string{"deadlock"}},
	} {
		b.Run(f.field, func(b *testing.B) {
			defer reportCPU(b)()
			b.ReportAllocs()
			for b.Loop() {
				err := s.Search(context.Background(), SearchRequest{Filter: f, Fields: []string{f.field}}, func(*record.Record) error { return nil })
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
