package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/bench/gen"
)

// TestE2EQuerierReplicas runs the scale-out stack through the real
// binaries on kfake: a gateway, three store indexers in two consumer
// groups (copy-a with two members, whose partitions' histories a
// rebalance splits between them, and copy-b with one) and a querier over
// the three. The bench's query set is answered exactly through the
// querier, and so are queries of every kind compared with copy-b's own
// answers (a full copy: what one node holding everything answers);
// after a kill -9 of a copy-a indexer every answer is still complete and
// exact, the querier asking copy-b for what the dead one held. With
// copy-b stopped too, what only they held has no copy left: the answer
// is partial, names both, and the CLI exits 3.
func TestE2EQuerierReplicas(t *testing.T) {
	needBinary(t)
	t.Parallel()
	_, brokers := startKafka(t)
	gw := startKafkaGateway(t, brokers, "")
	// A killed member's partitions move after the session timeout.
	const cfg = "store:\n  flush_interval: 500ms\nkafka:\n  session_timeout: 3s\n"
	indexer := func(group string) *server {
		return startServer(t, t.TempDir(), cfg, "--role", "indexer", "--kafka-brokers", brokers, "--kafka-consumer-group", group)
	}
	a1 := indexer("copy-a")
	b1 := indexer("copy-b")

	// records go in before the kill, more after it.
	const records, more = 4000, 1000
	g, err := gen.New(gen.Config{Seed: 3, Records: records + more, End: time.Now().Truncate(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	const path = "/insert/jsonline?_time_field=_time&_msg_field=_msg&_stream_fields=service,host,container"
	send := func(n int) {
		var body []byte
		for sent := 0; sent < n; {
			var k int
			body, k = g.AppendBatch(body[:0], min(500, n-sent))
			sent += k
			for {
				code, ans, _ := gw.post(path, "application/x-ndjson", body)
				if code == http.StatusOK || code == http.StatusNoContent {
					break
				}
				if code != http.StatusTooManyRequests {
					t.Fatalf("gateway answered %d: %s", code, ans)
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
	}
	// a1 takes the first third alone; then a2 joins copy-a and the
	// partitions are shared, so a partition's history is split.
	send(records / 3)
	waitKafkaStored(t, records/3, a1)
	a2 := indexer("copy-a")
	waitAssigned(t, a2)
	send(records - records/3)
	waitKafkaStored(t, records, a1, a2)
	waitKafkaStored(t, records, b1)

	qr := startServer(t, t.TempDir(), "querier:\n  poll_interval: 300ms\n",
		"--role", "querier", "--indexers", strings.Join([]string{a1.url, a2.url, b1.url}, ","))

	check := func(when string) {
		t.Helper()
		for _, q := range g.Queries() {
			if err := q.Want.Check(apiRows(t, qr, q.Sluice)); err != nil {
				t.Errorf("%s: %s (%s): %v", when, q.Name, q.Sluice, err)
			}
		}
		for _, q := range querierQueries {
			if got, want := apiRows(t, qr, q), apiRows(t, b1, q); !reflect.DeepEqual(got, want) || len(want) == 0 {
				t.Errorf("%s: %s:\n querier %v\n copy-b  %v", when, q, got, want)
			}
		}
		for _, ep := range []string{"/api/v1/field_names?top=5&", "/api/v1/hits?step=1m&"} {
			q := url.Values{"query": {"level:error"}, "from": {"now-2h"}}.Encode()
			if got, want := getJSON(t, qr, ep+q), getJSON(t, b1, ep+q); !reflect.DeepEqual(got, want) {
				t.Errorf("%s: %s: querier %v, copy-b %v", when, ep, got, want)
			}
		}
	}
	check("all up")
	// Queries alternate between the copies: both ran.
	check("all up, second round")
	if out := qr.cli("query", "service:payments | stats count() as n", "--explain"); strings.Count(out, "== indexer ") == 0 {
		t.Errorf("explain through the querier names no indexer:\n%s", out)
	}

	a1Count := a1.count("*")
	a1.kill()
	check("a copy-a indexer killed")
	// The querier's status shows each indexer's group, and a1 down.
	st := getJSON(t, qr, "/api/v1/status").(map[string]any)
	ixs, _ := st["querier"].([]any)
	var seen []string
	for _, ix := range ixs {
		m := ix.(map[string]any)
		seen = append(seen, fmt.Sprintf("%v %v %v", m["url"] == a1.url, m["group"], m["up"]))
	}
	slices.Sort(seen)
	if want := []string{"false copy-a true", "false copy-b true", "true copy-a false"}; !slices.Equal(seen, want) {
		t.Errorf("querier status: %v, want %v", seen, want)
	}
	// After its session timeout, a2 takes its partitions over and new
	// records arrive there: still one copy of each.
	waitAssignedCount(t, a2, kafkaPartitions)
	send(more)
	waitKafkaStored(t, records+more, b1)
	waitKafkaStored(t, records+more-a1Count, a2)
	check("after the rebalance")

	// a1 held records of every partition (it consumed them all alone at
	// first): with copy-b gone too, no partition has a whole copy left.
	b1.stop()
	stdout, stderr, code := qr.runCLI("query", "* | stats count() as n")
	if code != 3 || !strings.Contains(stderr, a1.url) || !strings.Contains(stderr, b1.url) || strings.Contains(stderr, a2.url) {
		t.Errorf("with no copy of a1's records: exit %d, stdout %q, stderr %q; want 3 naming %s and %s, not %s", code, stdout, stderr, a1.url, b1.url, a2.url)
	}
}

// querierQueries cover what the bench's counts do not: every stats
// function, sorting and limiting records, top, pipes after a stats.
var querierQueries = []string{
	`* | stats count() as n, sum(latency_ms) as s, min(latency_ms) as lo, max(latency_ms) as hi, avg(status) as a by service`,
	`* | stats count_uniq(host) as hosts, quantile(0.5, latency_ms) as p50, quantile(0.99, latency_ms) as p99 by level`,
	`* | stats count() as n by _time:5m, level | sort by n desc | limit 5`,
	`level:error | sort by latency_ms desc | limit 7 | fields service, latency_ms`,
	`* | top 3 by service`,
	`* | stats count() as n by service | stats count() as services, sum(n) as total`,
}

func waitAssigned(t *testing.T, s *server) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for metric(t, s, "sluice_kafka_assigned_partitions") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("indexer got no partitions")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func waitAssignedCount(t *testing.T, s *server, n float64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for metric(t, s, "sluice_kafka_assigned_partitions") != n {
		if time.Now().After(deadline) {
			t.Fatalf("indexer holds %v partitions after 30s, want %v", metric(t, s, "sluice_kafka_assigned_partitions"), n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// getJSON GETs path (with its query string) and decodes the JSON answer.
func getJSON(t *testing.T, s *server, path string) any {
	t.Helper()
	resp, err := http.Get(s.url + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return v
}

// TestE2EQuerierDuplicates makes the duplicate that no single store can
// prevent, deterministically: indexer x1 of group dup dies (fault point
// kafka.commit) after its first batch is durable in its store and before
// its offsets are committed; x2, joining after it, consumes the whole
// topic from the start, that batch included; x1 comes back on its data
// directory, so both stores hold the batch. Each store is exact on its
// own, their sum is not; the querier, dividing the offsets both hold
// between them by the ranges each reports, counts every record once,
// before and after more records arrive split between the two.
func TestE2EQuerierDuplicates(t *testing.T) {
	needBinary(t)
	t.Parallel()
	_, brokers := startKafka(t)
	gw := startKafkaGateway(t, brokers, "")
	const cfg = "kafka:\n  session_timeout: 2s\n  rebalance_timeout: 3s\n"
	flags := []string{"--role", "indexer", "--kafka-brokers", brokers, "--kafka-consumer-group", "dup"}
	d1 := t.TempDir()

	x1 := launchServer(t, []string{"SLUICE_FAULT=kafka.commit"}, d1, cfg, flags...)
	sendKafkaLines(t, gw, 0, 300, 300)
	select {
	case <-x1.done:
	case <-time.After(30 * time.Second):
		t.Fatal("x1 did not reach kafka.commit within 30s")
	}
	x2 := startServer(t, t.TempDir(), cfg, flags...)
	waitKafkaStored(t, 300, x2)
	x1 = startServer(t, d1, cfg, flags...)
	waitAssigned(t, x1)
	dup := x1.count("*")
	if dup == 0 || x2.count("*") != 300 {
		t.Fatalf("x1 holds %d records, x2 %d: want a batch in both and all 300 in x2", dup, x2.count("*"))
	}

	qr := startServer(t, t.TempDir(), "querier:\n  poll_interval: 300ms\n",
		"--role", "querier", "--indexers", x1.url+","+x2.url)
	check := func(want int) {
		t.Helper()
		if n := qr.count("*"); n != want {
			t.Errorf("querier counts %d records, want %d (x1 %d, x2 %d)", n, want, x1.count("*"), x2.count("*"))
		}
		rows := qr.queryRows(`* | stats count() as n by kafka.partition, kafka.offset | sort by n desc | limit 1`)
		if len(rows) != 1 || rows[0]["n"] != float64(1) {
			t.Errorf("a record counted twice: %v", rows)
		}
		if rows := qr.queryRows(`* | stats count_uniq(seq) as u, count() as n`); len(rows) != 1 ||
			rows[0]["u"] != float64(want) || rows[0]["n"] != float64(want) {
			t.Errorf("seq: %v, want %d once each", rows, want)
		}
	}
	check(300)
	// More records, consumed by both (the partitions are shared now).
	sendKafkaLines(t, gw, 300, 200, 100)
	waitKafkaStored(t, 500+dup, x1, x2)
	check(500)
}
