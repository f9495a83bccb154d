package store

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/sluice-log/sluice/internal/record"
)

func BenchmarkAppend(b *testing.B) {
	recs := genRecords(rand.New(rand.NewPCG(1, 1)), 1000, 0)
	s := openTest(b, b.TempDir(), Options{})
	defer s.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		s.Append(recs, uint64(i))
		if i%100 == 99 { // keep the head from growing without bound
			b.StopTimer()
			s.mu.Lock()
			s.active = newHead()
			s.mu.Unlock()
			b.StartTimer()
		}
	}
	b.ReportMetric(float64(b.N*len(recs))/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkFlush(b *testing.B) {
	recs := genRecords(rand.New(rand.NewPCG(1, 1)), 20000, 0)
	s := openTest(b, b.TempDir(), Options{})
	defer s.Close()
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		s.Append(recs, uint64(i+1))
		b.StartTimer()
		if err := s.Flush(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(recs))/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkSearchSelectiveToken searches for a word that only a few blocks
// hold, so the bloom filters skip most blocks unread.
func BenchmarkSearchSelectiveToken(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	recs := genRecords(rng, 100000, 0)
	for i := range recs {
		recs[i].Tenant = ""
		if i%5000 == 0 {
			recs[i].Message += " needle"
		}
	}
	s := openTest(b, b.TempDir(), Options{BlockRecords: 1024})
	defer s.Close()
	s.Append(recs, 1)
	if err := s.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	req := SearchRequest{Filter: &testFilter{kind: "word", field: record.MessageField, word: "needle"}}
	before := s.Stats()
	found := 0
	b.ReportAllocs()
	for b.Loop() {
		found = 0
		err := s.Search(context.Background(), req, func(*record.Record) error { found++; return nil })
		if err != nil {
			b.Fatal(err)
		}
	}
	if found != 20 {
		b.Fatalf("found %d records, want 20", found)
	}
	st := s.Stats()
	b.ReportMetric(float64(st.BlocksSkipped-before.BlocksSkipped)/float64(b.N), "blocks-skipped/op")
	b.ReportMetric(float64(st.BlocksRead-before.BlocksRead)/float64(b.N), "blocks-read/op")
}

// BenchmarkSearchAll visits every record of 100k in parts, with all fields
// and with SearchRequest.Fields naming one field (as `stats count() by
// level` can).
func BenchmarkSearchAll(b *testing.B) {
	recs := genRecords(rand.New(rand.NewPCG(1, 1)), 100000, 0)
	for i := range recs {
		recs[i].Tenant = ""
	}
	s := openTest(b, b.TempDir(), Options{})
	defer s.Close()
	s.Append(recs, 1)
	if err := s.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name   string
		fields []string
	}{{"all-fields", nil}, {"level-only", []string{"level"}}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				n := 0
				err := s.Search(context.Background(), SearchRequest{Fields: bc.fields}, func(*record.Record) error { n++; return nil })
				if err != nil || n != len(recs) {
					b.Fatalf("visited %d records, err %v", n, err)
				}
			}
			b.ReportMetric(float64(len(recs)*b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
