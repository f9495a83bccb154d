package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// The attacks of issue 20 on a running server, each shown to fail.

// queryStatus runs q against s's query API with tenant and returns the
// status, the answer and how long it took.
func queryStatus(t *testing.T, s *server, q, tenant string) (int, string, time.Duration) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.url+"/api/v1/query?"+url.Values{"query": {q}}.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Scope-OrgID", tenant)
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("query %q: %v", q, err)
		return 0, "", time.Since(start)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), time.Since(start)
}

// TestE2EHostileQueries: the pathological regex of issue 20 over long
// values (about 16 s of matching each, far more under -race) returns at
// the query timeout with 504; five of them at once, more than there are
// query slots, do not keep an ordinary query from an answer, since each
// frees its slot at its deadline; a query past query.max_scanned_records
// is stopped with 422 naming the limit.
func TestE2EHostileQueries(t *testing.T) {
	needBinary(t)
	const timeout = time.Second
	s := startServer(t, t.TempDir(), "query: {timeout: 1s, max_concurrent: 4, max_scanned_records: 1000}\n"+
		"forward: {enabled: false}\nsyslog: {enabled: false}\notlp: {enabled: false}\n")
	defer s.stop()
	var body strings.Builder
	for i := range 8 {
		fmt.Fprintf(&body, `{"_msg":"long %d %s"}`+"\n", i, strings.Repeat("a", 128<<10))
	}
	if code, ans, _ := s.post("/insert/jsonline", "application/x-ndjson", []byte(body.String())); code != 200 {
		t.Fatalf("ingest: %d %s", code, ans)
	}
	body.Reset()
	for i := range 1200 {
		fmt.Fprintf(&body, `{"_msg":"small %d"}`+"\n", i)
	}
	if code, ans, _ := s.post("/insert/jsonline", "application/x-ndjson", []byte(body.String()), "X-Scope-OrgID", "bulk"); code != 200 {
		t.Fatalf("ingest: %d %s", code, ans)
	}

	const pathological = `_msg:/.{0,1000}b.{0,1000}z/`
	code, ans, took := queryStatus(t, s, pathological, "")
	if code != http.StatusGatewayTimeout || !strings.Contains(ans, "query.timeout") || took > 5*timeout {
		t.Fatalf("pathological regex: %d %s after %s; want 504 at the %s timeout", code, ans, took, timeout)
	}
	t.Logf("pathological regex answered %d after %s (timeout %s)", code, took, timeout)

	// Four take the slots and the fifth waits for one; it may give up
	// (429) as the four end, if they end at its own wait's bound.
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			code, ans, took := queryStatus(t, s, pathological, "")
			if code != http.StatusGatewayTimeout && code != http.StatusTooManyRequests || took > 5*timeout {
				t.Errorf("one of five pathological queries: %d %s after %s", code, ans, took)
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	code, ans, took = queryStatus(t, s, `long | stats count() as n`, "")
	if code != http.StatusOK || !strings.Contains(ans, `"n":8`) {
		t.Errorf("ordinary query beside five pathological ones: %d %s after %s", code, ans, took)
	}
	wg.Wait()

	code, ans, _ = queryStatus(t, s, `*`, "bulk")
	if code != http.StatusUnprocessableEntity || !strings.Contains(ans, "more than 1000 records (query.max_scanned_records)") {
		t.Errorf("query past max_scanned_records: %d %s", code, ans)
	}
}
