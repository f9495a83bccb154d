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

// BenchmarkFilters measures each kind of filter over 100k records, as a
// plain search (newest 100), so that Match dominates.
func BenchmarkFilters(b *testing.B) {
	src := benchRecords(100_000)
	for _, q := range []string{
		`handled`, `"user 42"`, `host:web-1*`, `*handled in 1*`, `_msg:/in [0-9]{4}ms/`,
		`level:="error"`, `status:[400 TO 599]`, `_stream:{service="payments",host=~"web-1.*"}`,
		`_time:[2024-05-01T10:00:00Z TO 2024-05-01T11:00:00Z]`, `NOT level:*`,
	} {
		b.Run(q, func(b *testing.B) { benchQuery(b, src, q, Options{Limit: 100}) })
	}
}

// BenchmarkStatsHighCardinality groups by a field with 100k distinct
// values.
func BenchmarkStatsHighCardinality(b *testing.B) {
	src := benchRecords(100_000)
	for i := range src {
		src[i].Fields = append(src[i].Fields, record.Field{Name: "request_id", Value: strconv.Itoa(i)})
	}
	benchQuery(b, src, `* | stats count() as n by request_id`, Options{})
}

// BenchmarkHistogram24h is the hits histogram of a day: 86,400 records,
// one a second, in 5-minute buckets.
func BenchmarkHistogram24h(b *testing.B) {
	src := benchRecords(86_400)
	for i := range src {
		src[i].Time = base + int64(i)*1e9
	}
	benchQuery(b, src, `* | stats count() as hits by _time:5m`, Options{})
}

// BenchmarkExtractStats is a pipe chain with query-time extraction.
func BenchmarkExtractStats(b *testing.B) {
	benchQuery(b, benchRecords(100_000), `* | extract "handled in <ms>ms" | stats quantile(0.99, ms) as p99 by service`, Options{})
}

func benchQuery(b *testing.B, src sliceSearcher, s string, opts Options) {
	q, err := Parse(s)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := Execute(context.Background(), src, q, opts, func(Row) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}
