package alert

import (
	"bytes"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/bench/gen"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/record"
)

// BenchmarkObserve is what the ingest path pays for the flows of
// bench/alerts-100-rules-10-flows.yaml on bench/gen's records (the records
// sluice-bench sends), in batches of 1000 as the bulk handlers hand them
// over.
func BenchmarkObserve(b *testing.B) {
	cfg, err := config.Load("../../bench/alerts-100-rules-10-flows.yaml")
	if err != nil {
		b.Fatal(err)
	}
	m, err := New(Options{Config: cfg.Alerts, Dir: b.TempDir(), Registry: prometheus.NewRegistry(), Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	const n = 100_000
	g, err := gen.New(gen.Config{Seed: 1, Records: n, End: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		b.Fatal(err)
	}
	conv := ingest.NewConverter(ingest.RecordConfig{TimeFields: []string{record.TimeField},
		MessageFields: []string{record.MessageField}, StreamFields: []string{"service", "host", "container"}})
	buf, _ := g.AppendBatch(nil, n)
	var recs []record.Record
	for line := range bytes.SplitSeq(bytes.TrimSuffix(buf, []byte("\n")), []byte("\n")) {
		r, err := conv.Convert(line, time.Now(), "", nil)
		if err != nil {
			b.Fatal(err)
		}
		recs = append(recs, r)
	}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		end := min(i+1000, len(recs))
		m.Observe(recs[i:end])
		if i = end; i == len(recs) {
			i = 0
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/record")
}
