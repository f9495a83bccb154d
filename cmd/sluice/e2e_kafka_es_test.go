package main

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-log/sluice/internal/sink"
	"github.com/sluice-log/sluice/internal/testutil/esfake"
)

// TestE2EKafkaElasticsearchCluster runs an indexer binary with the
// Elasticsearch sink (go-elasticsearch) against esfake, a test server that
// answers as Elasticsearch documents its APIs (no real Elasticsearch can run
// here; see internal/testutil/esfake):
//
//   - a user without write privileges (every bulk item 403): nothing is
//     dead-lettered, the indexer turns not ready, nothing is committed;
//     once privileges are granted every record is indexed exactly once;
//   - one data stream per tenant, ILM policies with the tenants' retention,
//     the built-in logs-*-* template untouched, numbers mapped as numbers;
//   - a mapping conflict is dead-lettered with its reason, and `sluice dlq
//     replay` sends it back after the fix (a rollover to a fresh mapping).
func TestE2EKafkaElasticsearchCluster(t *testing.T) {
	needBinary(t)
	t.Parallel()
	_, brokers := startKafka(t)
	es := esfake.New(t, esfake.Elasticsearch)
	es.SetForbidden(true)
	ix := startKafkaIndexer(t, t.TempDir(), brokers, "store:\n  retention: 7d\n  tenants:\n    acme: {retention: 30d}\n"+
		"sink:\n  type: elasticsearch\n  unready_after: 1s\n  elasticsearch:\n    addresses: ["+es.URL+"]\n    max_retries: 1\n")
	gw := startKafkaGateway(t, brokers, "")

	sendKafkaLines(t, gw, 0, 200, 100)
	code, body, _ := gw.post("/insert/jsonline", "application/x-ndjson", kafkaLines(200, 100), "X-Scope-OrgID", "acme")
	if code/100 != 2 {
		t.Fatalf("acme's records: %d %s", code, body)
	}

	// 403 on every item: retried, not dead-lettered; not ready after
	// sink.unready_after.
	deadline := time.Now().Add(20 * time.Second)
	for readyStatus(t, ix) != http.StatusServiceUnavailable {
		if time.Now().After(deadline) {
			t.Fatal("indexer still ready while the cluster refused every document with 403")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n := metric(t, ix, "sluice_kafka_consumed_records_total"); n != 0 {
		t.Errorf("%v records committed while the cluster refused them", n)
	}
	if v, _ := metricValue(t, ix, `sluice_kafka_dead_lettered_records_total{reason="sink"}`); v != 0 {
		t.Errorf("%v records dead-lettered for a 403", v)
	}

	es.SetForbidden(false)
	acme := sink.StreamName("sluice-logs", "acme")
	waitDocs(t, es, map[string]int{"sluice-logs-default": 200, acme: 100})
	deadline = time.Now().Add(20 * time.Second)
	for readyStatus(t, ix) != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("indexer not ready again after the cluster took the documents")
		}
		time.Sleep(100 * time.Millisecond)
	}
	for field, want := range map[string]string{"seq": "long", "service.name": "keyword", "host.name": "keyword", "@timestamp": "date_nanos"} {
		if got := es.FieldType(acme, field); got != want {
			t.Errorf("%s mapped as %q, want %q", field, got, want)
		}
	}
	if es.TemplateFor("logs-nginx.access-default") != "logs" || es.TemplateFor(acme) != acme {
		t.Errorf("templates: logs-*-* → %q, %s → %q", es.TemplateFor("logs-nginx.access-default"), acme, es.TemplateFor(acme))
	}
	if pol, _ := es.Policy(acme); !strings.Contains(fmt.Sprint(pol), "min_age:30d") {
		t.Errorf("acme's ILM policy: %v", pol)
	}

	// A document the mapping refuses (seq is a long; seq.part makes it an
	// object) goes to the dead-letter topic with the cluster's reason.
	code, body, _ = gw.post("/insert/jsonline", "application/x-ndjson",
		[]byte(`{"_msg":"odd one","service":"svc0","seq":{"part":1}}`+"\n"))
	if code/100 != 2 {
		t.Fatalf("odd record: %d %s", code, body)
	}
	dead := waitTopic(t, brokers, "logs-dead-letter", 1)
	if r := headerOf(dead[0], "sluice-dead-letter-reason"); !strings.Contains(r, "document_parsing_exception") {
		t.Errorf("dead-letter reason %q", r)
	}

	// The fix: a new backing index whose mapping starts afresh; then the
	// replay puts the record back in the main topic and the indexer takes it.
	es.Rollover("sluice-logs-default")
	out, err := exec.Command(binPath, "dlq", "replay", "--kafka-brokers", brokers).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "replayed 1 of 1 records read from logs-dead-letter to topic logs") {
		t.Fatalf("sluice dlq replay: %v\n%s", err, out)
	}
	waitDocs(t, es, map[string]int{"sluice-logs-default": 201, acme: 100})
	out, err = exec.Command(binPath, "dlq", "replay", "--kafka-brokers", brokers).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "replayed 0 of 0 records") {
		t.Errorf("a second replay found more: %v\n%s", err, out)
	}
	gw.stop()
	ix.stop()
}

func readyStatus(t *testing.T, s *server) int {
	t.Helper()
	resp, err := http.Get(s.url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// waitDocs waits until each stream holds exactly its count.
func waitDocs(t *testing.T, es *esfake.Server, want map[string]int) {
	t.Helper()
	deadline := time.Now().Add(25 * time.Second)
	for {
		ok := true
		got := map[string]int{}
		for stream, n := range want {
			got[stream] = len(es.Docs(stream))
			if got[stream] > n {
				t.Fatalf("duplicates: %v, want %v", got, want)
			}
			ok = ok && got[stream] == n
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("documents %v, want %v", got, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitTopic reads n records of a topic from its beginning.
func waitTopic(t *testing.T, brokers, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(brokers, ",")...), kgo.ConsumeTopics(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var recs []*kgo.Record
	for len(recs) < n && ctx.Err() == nil {
		recs = append(recs, cl.PollFetches(ctx).Records()...)
	}
	if len(recs) != n {
		t.Fatalf("topic %s: %d records, want %d", topic, len(recs), n)
	}
	return recs
}

func headerOf(m *kgo.Record, key string) string {
	for _, h := range m.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}
