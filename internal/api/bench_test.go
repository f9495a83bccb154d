package api

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/testutil/testpipeline"
)

// BenchmarkQueryRoundTrip times the whole HTTP exchange of small queries,
// as sluice-bench's client sees it: the request over loopback, the
// handler's layers (auth off, tenant, the query slot, the CPU slot),
// parsing, the search of a few flushed parts and the NDJSON answer. The
// queries read a few blocks at most, so the fixed cost of a query is most
// of what is measured: the trace query (bench/gen's `trace`: a rare id's
// count over the last hour) and a range that holds no record. cpu-ns/op is
// the process's CPU (server and client) per query, steadier than ns/op on
// a shared machine; allocs and bytes are the process's too.
func BenchmarkQueryRoundTrip(b *testing.B) {
	const parts, perPart = 4, 5000
	end := time.Date(2026, 12, 2, 20, 30, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(1, 2))
	reg := prometheus.NewRegistry()
	p := testpipeline.Open(b, nil, reg)
	const rare = "e271da48b6940d1fdf21bd09066958de"
	for part := range parts {
		recs := make([]record.Record, perPart)
		for i := range recs {
			k := part*perPart + i
			trace := fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64())
			if k%(parts*perPart/3) == 7 {
				trace = rare
			}
			recs[i] = record.Record{
				Time:    end.Add(-time.Duration(parts*perPart-k) * (time.Hour / (parts * perPart))).UnixNano(),
				Stream:  []record.Field{{Name: "service", Value: fmt.Sprintf("svc-%d", k%8)}},
				Message: fmt.Sprintf("request %d done in %d ms", k, rng.IntN(500)),
				Fields:  []record.Field{{Name: "level", Value: "info"}, {Name: "trace_id", Value: trace}},
			}
		}
		if err := p.Ingest(context.Background(), recs); err != nil {
			b.Fatal(err)
		}
		if err := p.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	srv := newBenchServer(b, p, reg)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	b.Cleanup(client.CloseIdleConnections)
	for _, bc := range []struct {
		name, query, from, to, want string
	}{
		{"trace", "trace_id:" + rare + " | stats count() as n", "2026-12-02T19:30:00Z", "2026-12-02T20:30:00Z", `{"n":3}`},
		{"empty", "trace_id:" + rare + " | stats count() as n", "2030-01-01T00:00:00Z", "2030-01-01T01:00:00Z", `{"n":0}`},
	} {
		body := url.Values{"query": {bc.query}, "from": {bc.from}, "to": {bc.to}, "limit": {"1000"}}.Encode()
		post := func() string {
			resp, err := client.Post(srv+"/api/v1/query", "application/x-www-form-urlencoded", strings.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				b.Fatalf("status %d, %v: %s", resp.StatusCode, err, got)
			}
			return string(got)
		}
		b.Run(bc.name, func(b *testing.B) {
			if got := strings.TrimSpace(post()); got != bc.want {
				b.Fatalf("answer %s, want %s", got, bc.want)
			}
			b.ReportAllocs()
			cpu0 := processCPU(b)
			for b.Loop() {
				post()
			}
			b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// newBenchServer serves the API over b's backend on loopback, with the
// server's default limits.
func newBenchServer(b *testing.B, be Backend, reg *prometheus.Registry) string {
	limits := QueryLimits{DefaultLimit: 100, MaxLimit: 10000, MaxGroups: 10000, Timeout: 30 * time.Second, MaxConcurrent: 4}
	srv := httptest.NewServer(New(Config{Backend: be, Limits: limits, Gatherer: reg, Registry: reg, Log: slogDiscard()}))
	b.Cleanup(srv.Close)
	return srv.URL
}

// processCPU is the CPU time the process has used, user and system.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
