package main

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/sluice-log/sluice/bench/gen"
)

// TestExplainAgainstFake checks that every Sluice query's explain cost is
// fetched and decoded from the real plan's JSON shape, and that
// VictoriaLogs, which has no explain, gets none.
func TestExplainAgainstFake(t *testing.T) {
	f := newFakeServer("")
	srv := httptest.NewServer(f)
	defer srv.Close()
	g, err := gen.New(gen.Config{Seed: 3, Records: 500, End: fakeEnd})
	if err != nil {
		t.Fatal(err)
	}
	for g.Remaining() > 0 {
		g.AppendBatch(nil, 500)
	}
	f.addAnswers(g.Queries(), g.From())
	c := newClient(srv.URL, 2)
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
