package main

import (
	"context"
	"math"
	"net/http/httptest"
	"testing"

	"github.com/sluice-log/sluice/bench/gen"
)

// TestExplainAgainstFake checks that every Sluice query's explain cost is
// fetched and decoded from the real plan's JSON shape, and that
// VictoriaLogs, which has no explain, gets none.
func TestExplainAgainstFake(t *testing.T) {
	c, g := fakeQueryClient(t, 500)
	want := explainCost{
		Parts: fakeCost.Parts, Blocks: fakeCost.Blocks, BlocksSkippedIndex: fakeCost.BlocksSkippedIndex,
		BlocksSkippedTime: fakeCost.BlocksSkippedTime, BlocksRead: fakeCost.BlocksRead,
		BytesRead: fakeCost.BytesRead, RecordsMatched: fakeCost.RecordsMatched,
	}
	for _, r := range runQueries(context.Background(), c, g.Queries(), g.From(), g.To(), 1) {
		if !r.Correct || r.ExplainError != "" || r.Explain == nil {
			t.Fatalf("query %s: correct=%v %s, explain %v %s", r.Name, r.Correct, r.Error, r.Explain, r.ExplainError)
		}
		if *r.Explain != want {
			t.Errorf("query %s: explain %+v, want %+v", r.Name, *r.Explain, want)
		}
	}

	// The fake knows only the bench queries: a failing explain is reported
	// beside the result, not as a wrong answer.
	if _, err := c.explain(context.Background(), "nonsense", g.From(), g.To()); err == nil {
		t.Error("explain of an unknown query succeeded")
	}

	c.sys = system{vlogs: true}
	for _, r := range runQueries(context.Background(), c, g.Queries()[:1], g.From(), g.To(), 1) {
		if r.Explain != nil || r.ExplainError != "" {
			t.Errorf("victorialogs query %s got explain %v %q", r.Name, r.Explain, r.ExplainError)
		}
	}
}

// TestQueryTail checks that a query's 90th percentile and maximum are
// measured from tailRepeats repetitions on, bound its median, and are left
// unmeasured (NaN) below, where they would be one or two draws.
func TestQueryTail(t *testing.T) {
	c, g := fakeQueryClient(t, 200)
	for _, tt := range []struct {
		repeat   int
		measured bool
	}{{1, false}, {tailRepeats - 1, false}, {tailRepeats, true}, {tailRepeats + 5, true}} {
		for _, r := range runQueries(context.Background(), c, g.Queries()[:2], g.From(), g.To(), tt.repeat) {
			if !r.Correct {
				t.Fatalf("repeat %d, query %s: %s", tt.repeat, r.Name, r.Error)
			}
			p90, mx := float64(r.P90Ms), float64(r.MaxMs)
			if !tt.measured {
				if !math.IsNaN(p90) || !math.IsNaN(mx) {
					t.Errorf("repeat %d, query %s: p90 %v, max %v, want unmeasured", tt.repeat, r.Name, p90, mx)
				}
				continue
			}
			if !(float64(r.MedianMs) <= p90 && p90 <= mx) {
				t.Errorf("repeat %d, query %s: median %v, p90 %v, max %v out of order", tt.repeat, r.Name, r.MedianMs, p90, mx)
			}
		}
	}
}

// fakeQueryClient returns a client of a fake server that knows the answers
// to the bench queries over n generated records, and their generator.
func fakeQueryClient(t *testing.T, n int) (*client, *gen.Generator) {
	t.Helper()
	f := newFakeServer("", "_msg")
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	g, err := gen.New(gen.Config{Seed: 3, Records: n, End: fakeEnd})
	if err != nil {
		t.Fatal(err)
	}
	for g.Remaining() > 0 {
		g.AppendBatch(nil, n)
	}
	f.addAnswers(g.Queries(), g.From())
	return newClient(srv.URL, 2), g
}
