package query

import (
	"context"
	"math/rand"
	"strconv"
	"testing"

	"github.com/sluice-log/sluice/internal/record"
)

func BenchmarkParse(b *testing.B) {
	const s = `service:payments AND (status:>=500 OR level:(error OR fatal)) -"health check" host:web* | stats count() as n, avg(latency_ms) by service, _time:5m | sort by n desc | limit 10`
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(s); err != nil {
			b.Fatal(err)
		}
	}
}

func benchRecords(n int) sliceSearcher {
	rng := rand.New(rand.NewSource(1))
	services := []string{"payments", "checkout", "auth", "search", "ledger"}
	levels := []string{"info", "info", "info", "warn", "error"}
	recs := make(sliceSearcher, n)
	for i := range recs {
		recs[i] = record.Record{
			Time:    base + int64(i)*int64(1e8),
			Stream:  []record.Field{{Name: "host", Value: "web-" + strconv.Itoa(rng.Intn(20))}, {Name: "service", Value: services[rng.Intn(len(services))]}},
			Message: "request handled in " + strconv.Itoa(rng.Intn(2000)) + "ms for user " + strconv.Itoa(rng.Intn(1000)),
			Fields: []record.Field{
				{Name: "level", Value: levels[rng.Intn(len(levels))]},
				{Name: "status", Value: strconv.Itoa(200 + 100*rng.Intn(4))},
				{Name: "latency_ms", Value: strconv.Itoa(rng.Intn(2000))},
			},
		}
	}
	return recs
}

func BenchmarkExecuteStats(b *testing.B) {
	src := benchRecords(100_000)
	q, err := Parse(`status:>=300 | stats count() as n, avg(latency_ms) by service, _time:1m`)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := Execute(context.Background(), src, q, Options{}, func(Row) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkExecuteSearch(b *testing.B) {
	src := benchRecords(100_000)
	q, err := Parse(`handled service:payments`)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := Execute(context.Background(), src, q, Options{Limit: 100}, func(Row) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}
