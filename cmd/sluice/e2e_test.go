package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esutil"
)

// testDoc is one generated record, with what the assertions need to know.
type testDoc struct {
	service string
	level   string
	status  int
	latency int
	msg     string
}

func makeDocs(n int, seed int) []testDoc {
	services := []string{"payments", "checkout", "auth", "search", "api"}
	levels := []string{"info", "info", "info", "warn", "error"}
	msgs := []string{"request served", "upstream timeout while calling db", "dial tcp: connection refused", "cache miss", "retry scheduled"}
	docs := make([]testDoc, n)
	for i := range docs {
		k := i*7 + seed
		docs[i] = testDoc{
			service: services[k%len(services)],
			level:   levels[(k/3)%len(levels)],
			status:  []int{200, 200, 201, 404, 500, 503}[(k/5)%6],
			latency: (k * 37) % 2000,
			msg:     msgs[(k/2)%len(msgs)],
		}
	}
	return docs
}

func countDocs(docs []testDoc, pred func(testDoc) bool) int {
	n := 0
	for _, d := range docs {
		if pred(d) {
			n++
		}
	}
	return n
}

// queryRows runs a query through the CLI with --json and decodes the rows.
func (s *server) queryRows(q string, extra ...string) []map[string]any {
	s.t.Helper()
	out := s.cli(append([]string{"query", q, "--json", "--limit", "100000"}, extra...)...)
	var rows []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<26)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			s.t.Fatalf("bad NDJSON line %q: %v", sc.Text(), err)
		}
		rows = append(rows, m)
	}
	return rows
}

func (s *server) count(q string) int {
	s.t.Helper()
	rows := s.queryRows(q + " | stats count() as n")
	if len(rows) != 1 {
		s.t.Fatalf("%q: want one row, got %v", q, rows)
	}
	n, ok := rows[0]["n"].(float64)
	if !ok {
		s.t.Fatalf("%q: row %v has no numeric n", q, rows[0])
	}
	return int(n)
}

func TestE2EIngestAndQuery(t *testing.T) {
	needBinary(t)
	t.Parallel()
	dataDir := t.TempDir()
	s := startServer(t, dataDir, "")
	now := time.Now().UTC()

	// 1. The Elasticsearch bulk API through the official client's BulkIndexer.
	bulkDocs := makeDocs(20000, 1)
	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{s.url}})
	if err != nil {
		t.Fatal(err)
	}
	info, err := es.Info()
	if err != nil || info.IsError() {
		t.Fatalf("es.Info: %v %v", err, info)
	}
	info.Body.Close()
	bi, err := esutil.NewBulkIndexer(esutil.BulkIndexerConfig{Client: es, Index: "app-logs", NumWorkers: 2, FlushBytes: 256 << 10})
	if err != nil {
		t.Fatal(err)
	}
	var failed atomic.Int64
	for i, d := range bulkDocs {
		doc := map[string]any{
			"@timestamp": now.Add(-time.Duration(len(bulkDocs)-i) * time.Millisecond).Format(time.RFC3339Nano),
			"message":    d.msg, "level": d.level, "status": d.status, "latency_ms": d.latency,
			"service": d.service, "host": map[string]any{"name": "node-1"},
		}
		body, _ := json.Marshal(doc)
		err := bi.Add(context.Background(), esutil.BulkIndexerItem{
			Action: "index", Body: bytes.NewReader(body),
			OnFailure: func(_ context.Context, _ esutil.BulkIndexerItem, res esutil.BulkIndexerResponseItem, err error) {
				failed.Add(1)
			},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := bi.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := bi.Stats(); st.NumFailed != 0 || failed.Load() != 0 || st.NumIndexed != uint64(len(bulkDocs)) {
		t.Fatalf("bulk indexer stats %+v, failures %d", st, failed.Load())
	}

	// 2. JSON lines.
	lineDocs := makeDocs(10000, 2)
	var body bytes.Buffer
	for i, d := range lineDocs {
		fmt.Fprintf(&body, `{"_time":%q,"_msg":%q,"service":%q,"level":%q,"status":%d,"latency_ms":%d}`+"\n",
			now.Add(-time.Duration(len(lineDocs)-i)*time.Millisecond).Format(time.RFC3339Nano), d.msg, d.service, d.level, d.status, d.latency)
	}
	code, answer, _ := s.post("/insert/jsonline", "application/x-ndjson", body.Bytes())
	if code != 200 {
		t.Fatalf("jsonline: %d %s", code, answer)
	}

	all := append(append([]testDoc{}, bulkDocs...), lineDocs...)
	check := func(q string, pred func(testDoc) bool) {
		t.Helper()
		if got, want := s.count(q), countDocs(all, pred); got != want {
			t.Errorf("%q: got %d records, want %d", q, got, want)
		}
	}
	checkAll := func() {
		check("*", func(testDoc) bool { return true })
		check("level:error", func(d testDoc) bool { return d.level == "error" })
		check("service:payments AND status:>=500", func(d testDoc) bool { return d.service == "payments" && d.status >= 500 })
		check("timeout", func(d testDoc) bool { return strings.Contains(d.msg, "timeout") })
		check(`"connection refused"`, func(d testDoc) bool { return strings.Contains(d.msg, "connection refused") })
		check("latency_ms:>1000", func(d testDoc) bool { return d.latency > 1000 })
		check("status:[500 TO 599] OR level:warn", func(d testDoc) bool { return d.status >= 500 || d.level == "warn" })
		check("NOT level:info", func(d testDoc) bool { return d.level != "info" })

		rows := s.queryRows("* | stats count() as n by level")
		got := map[string]int{}
		for _, r := range rows {
			got[r["level"].(string)] = int(r["n"].(float64))
		}
		for _, lvl := range []string{"info", "warn", "error"} {
			if want := countDocs(all, func(d testDoc) bool { return d.level == lvl }); got[lvl] != want {
				t.Errorf("stats by level: %s = %d, want %d", lvl, got[lvl], want)
			}
		}

		rows = s.queryRows("level:error | stats count() as n by service | sort by n desc | limit 10")
		want := map[string]int{}
		for _, d := range all {
			if d.level == "error" {
				want[d.service]++
			}
		}
		if len(rows) != len(want) {
			t.Errorf("top services: got %d rows, want %d", len(rows), len(want))
		}
		for i, r := range rows {
			if n := int(r["n"].(float64)); n != want[r["service"].(string)] || (i > 0 && n > int(rows[i-1]["n"].(float64))) {
				t.Errorf("top services row %d = %v (want counts %v, descending)", i, r, want)
			}
		}

		rows = s.queryRows("* | stats count() as n by _time:1h")
		total := 0
		for _, r := range rows {
			if _, err := time.Parse(time.RFC3339, r["_time"].(string)); err != nil {
				t.Errorf("hour bucket %v: %v", r, err)
			}
			total += int(r["n"].(float64))
		}
		if total != len(all) {
			t.Errorf("hour buckets add up to %d, want %d", total, len(all))
		}
	}
	checkAll()

	// Readable output and --since.
	out := s.cli("query", "level:error AND service:auth", "--since", "1h", "--limit", "3")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "auth") || !strings.Contains(lines[0], "level=error") {
		t.Errorf("readable output:\n%s", out)
	}
	if out := s.cli("query", "* | stats count() as n by level"); !strings.Contains(out, "level") || !strings.Contains(out, "error") {
		t.Errorf("readable stats table:\n%s", out)
	}

	// Field names and hits.
	resp, err := http.Get(s.url + "/api/v1/hits?query=level:error&from=now-1h&step=1m")
	if err != nil {
		t.Fatal(err)
	}
	var hits struct{ Total int }
	_ = json.NewDecoder(resp.Body).Decode(&hits)
	resp.Body.Close()
	if want := countDocs(all, func(d testDoc) bool { return d.level == "error" }); hits.Total != want {
		t.Errorf("hits total %d, want %d", hits.Total, want)
	}
	resp, err = http.Get(s.url + "/api/v1/field_names?query=*&from=now-1h")
	if err != nil {
		t.Fatal(err)
	}
	var fn struct {
		Fields []struct {
			Name  string
			Count int
		}
	}
	_ = json.NewDecoder(resp.Body).Decode(&fn)
	resp.Body.Close()
	fields := fn.Fields
	names := map[string]int{}
	for _, f := range fields {
		names[f.Name] = f.Count
	}
	if names["level"] != len(all) || names["latency_ms"] != len(all) {
		t.Errorf("field names: %v", fields)
	}

	// A graceful stop flushes everything; a restart serves the same answers
	// from parts alone.
	s.stop()
	s = startServer(t, dataDir, "")
	checkAll()
	s.stop()
}

func TestE2ETail(t *testing.T) {
	needBinary(t)
	t.Parallel()
	s := startServer(t, t.TempDir(), "")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, "tail", "service:api AND level:error", "--server", s.url)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	lines := make(chan string, 10)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	// The tail connects asynchronously; keep sending until a line arrives.
	deadline := time.After(20 * time.Second)
	for i := 0; ; i++ {
		body := fmt.Sprintf(`{"service":"api","level":"info","_msg":"ignored %d"}`+"\n"+`{"service":"api","level":"error","_msg":"tailed marker%d"}`, i, i)
		if code, ans, _ := s.post("/insert/jsonline", "application/x-ndjson", []byte(body)); code != 200 {
			t.Fatalf("ingest: %d %s", code, ans)
		}
		select {
		case l := <-lines:
			if !strings.Contains(l, "tailed marker") || strings.Contains(l, "ignored") {
				t.Fatalf("unexpected tail line %q", l)
			}
			return
		case <-time.After(300 * time.Millisecond):
		case <-deadline:
			t.Fatal("no tail line within 20s")
		}
	}
}
