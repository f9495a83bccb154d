package main

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The scale-out tests run the real binary in its gateway and indexer roles
// against kfake, an in-process Kafka cluster that speaks the real wire
// protocol on 127.0.0.1.

const kafkaPartitions = 4

func startKafka(t *testing.T) (*kfake.Cluster, string) {
	t.Helper()
	c, err := kfake.NewCluster(
		kfake.NumBrokers(1),
		kfake.GroupMinSessionTimeout(time.Second),
		kfake.SeedTopics(kafkaPartitions, "logs", "logs-dead-letter"),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c, strings.Join(c.ListenAddrs(), ",")
}

// gatewayBase turns off the receivers with fixed ports of their own, so
// that gateways do not collide with other tests' servers.
const gatewayBase = "forward:\n  enabled: false\nsyslog:\n  enabled: false\notlp:\n  grpc_addr: \"\"\n"

func startKafkaGateway(t *testing.T, brokers, configYAML string) *server {
	configYAML = gatewayBase + configYAML
	return startServer(t, t.TempDir(), configYAML, "--role", "gateway", "--kafka-brokers", brokers, "--kafka-topic", "logs")
}

func startKafkaIndexer(t *testing.T, dataDir, brokers, configYAML string) *server {
	return startServer(t, dataDir, configYAML, "--role", "indexer", "--kafka-brokers", brokers)
}

// kafkaLines makes n JSON lines numbered from first, over 5 services.
func kafkaLines(first, n int) []byte {
	var b bytes.Buffer
	now := time.Now().UTC()
	for i := first; i < first+n; i++ {
		fmt.Fprintf(&b, `{"_time":%q,"service":"svc%d","host":"h%d","seq":%d,"_msg":"event number %d"}`+"\n",
			now.Add(time.Duration(i)*time.Microsecond).Format(time.RFC3339Nano), i%5, i%16, i, i)
	}
	return b.Bytes()
}

// sendKafkaLines posts lines in batches to a gateway; every batch must be
// acknowledged with 200 (retried on 429).
func sendKafkaLines(t *testing.T, gw *server, first, n, batch int) {
	t.Helper()
	for i := first; i < first+n; i += batch {
		m := min(batch, first+n-i)
		for {
			code, body, _ := gw.post("/insert/jsonline", "application/x-ndjson", kafkaLines(i, m))
			if code == http.StatusOK || code == http.StatusNoContent {
				break
			}
			if code != http.StatusTooManyRequests {
				t.Fatalf("gateway answered %d: %s", code, body)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// waitKafkaStored waits until the sum of counts over servers reaches want, then
// checks that it stays exactly want once the indexers have no lag left.
func waitKafkaStored(t *testing.T, want int, servers ...*server) []int {
	t.Helper()
	deadline := time.Now().Add(25 * time.Second)
	for {
		counts, total := kafkaCountAll(servers)
		if total == want && kafkaLagZero(t, servers) {
			// Settled: nothing left to consume, so no duplicate can still come.
			counts2, total2 := kafkaCountAll(servers)
			if total2 != want {
				t.Fatalf("count changed from %d to %d (%v) after the lag was zero", total, total2, counts2)
			}
			return counts
		}
		if total > want {
			t.Fatalf("duplicates: %d records stored (%v), %d sent", total, counts, want)
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 25s: %d records stored (%v), want %d", total, counts, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func kafkaCountAll(servers []*server) ([]int, int) {
	var counts []int
	total := 0
	for _, s := range servers {
		n := s.count("*")
		counts = append(counts, n)
		total += n
	}
	return counts, total
}

func kafkaLagZero(t *testing.T, servers []*server) bool {
	for _, s := range servers {
		if metric(t, s, "sluice_kafka_consumer_lag_total") != 0 {
			return false
		}
	}
	return true
}

func TestE2EKafkaGatewayIndexer(t *testing.T) {
	needBinary(t)
	t.Parallel()
	_, brokers := startKafka(t)
	gw := startKafkaGateway(t, brokers, "")
	ix := startKafkaIndexer(t, t.TempDir(), brokers, "")

	// The gateway has nothing to query.
	resp, err := http.Get(gw.url + "/api/v1/query?query=*")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("gateway query API: status %d, want 404", resp.StatusCode)
	}

	const n = 3000
	sendKafkaLines(t, gw, 0, n, 250)
	waitKafkaStored(t, n, ix)
	for svc := range 5 {
		if got := ix.count(fmt.Sprintf("service:svc%d", svc)); got != n/5 {
			t.Errorf("service svc%d: %d records, want %d", svc, got, n/5)
		}
	}
	rows := ix.queryRows(`seq:1234`)
	if len(rows) != 1 || rows[0]["_msg"] != "event number 1234" || rows[0]["_stream"] != `{host="h2",service="svc4"}` {
		t.Errorf("record 1234 came out as %v", rows)
	}
	if v := metric(t, gw, "sluice_kafka_produced_records_total"); v != n {
		t.Errorf("gateway produced %v records, want %d", v, n)
	}
	gw.stop()
	ix.stop()
}

func TestE2EKafkaIndexerKill9(t *testing.T) {
	needBinary(t)
	t.Parallel()
	_, brokers := startKafka(t)
	gw := startKafkaGateway(t, brokers, "")
	dir := t.TempDir()
	// A killed member holds its partitions until the session timeout.
	cfg := "store:\n  flush_interval: 300ms\nkafka:\n  session_timeout: 6s\n"
	ix := startKafkaIndexer(t, dir, brokers, cfg)

	const rounds, perRound = 2, 4000
	for r := range rounds {
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			sendKafkaLines(t, gw, r*perRound, perRound, 500)
		}()
		// Kill while the indexer is consuming: after some, before all.
		deadline := time.Now().Add(15 * time.Second)
		for metric(t, ix, "sluice_kafka_consumed_records_total") == 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		ix.kill()
		wg.Wait()
		ix = startKafkaIndexer(t, dir, brokers, cfg)
	}
	waitKafkaStored(t, rounds*perRound, ix)
	// Every sequence number exactly once.
	rows := ix.queryRows(`* | stats count() as n by seq | sort by n desc | limit 1`)
	if len(rows) != 1 || rows[0]["n"] != float64(1) {
		t.Errorf("a sequence number is stored more than once: %v", rows)
	}
	ix.stop()
}

func TestE2EKafkaTwoIndexersRebalance(t *testing.T) {
	needBinary(t)
	t.Parallel()
	_, brokers := startKafka(t)
	gw := startKafkaGateway(t, brokers, "")
	a := startKafkaIndexer(t, t.TempDir(), brokers, "")
	sendKafkaLines(t, gw, 0, 1000, 250)
	waitKafkaStored(t, 1000, a)

	// A second member joins: the partitions are shared.
	bDir := t.TempDir()
	b := startKafkaIndexer(t, bDir, brokers, "")
	deadline := time.Now().Add(20 * time.Second)
	for metric(t, b, "sluice_kafka_assigned_partitions") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("second indexer got no partitions")
		}
		time.Sleep(100 * time.Millisecond)
	}
	sendKafkaLines(t, gw, 1000, 2000, 250)
	counts := waitKafkaStored(t, 3000, a, b)
	if counts[1] == 0 {
		t.Fatalf("second indexer stored nothing: %v", counts)
	}
	if got := metric(t, a, "sluice_kafka_assigned_partitions") + metric(t, b, "sluice_kafka_assigned_partitions"); got != kafkaPartitions {
		t.Errorf("partitions assigned in total: %v, want %d", got, kafkaPartitions)
	}

	// b leaves: a takes over every partition, and nothing b committed is
	// consumed again.
	b.stop()
	sendKafkaLines(t, gw, 3000, 1000, 250)
	b = startKafkaIndexer(t, bDir, brokers, "")
	waitKafkaStored(t, 4000, a, b)
	a.stop()
	b.stop()
}

// kafkaBlockProduce makes the broker refuse produce requests (closing the
// connection) until the returned function is called.
func kafkaBlockProduce(c *kfake.Cluster) (unblock func()) {
	var down atomic.Bool
	down.Store(true)
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		if !down.Load() {
			c.DropControl()
			return nil, nil, false
		}
		c.KeepControl()
		return nil, errors.New("broker unavailable (test)"), true
	})
	return func() { down.Store(false) }
}

func TestE2EKafkaBrokerUnavailable(t *testing.T) {
	needBinary(t)
	t.Parallel()
	c, brokers := startKafka(t)
	gw := startKafkaGateway(t, brokers, "kafka:\n  max_in_flight_bytes: 4KiB\n  delivery_timeout: 60s\n")
	ix := startKafkaIndexer(t, t.TempDir(), brokers, "")
	sendKafkaLines(t, gw, 0, 100, 100)
	waitKafkaStored(t, 100, ix)

	unblock := kafkaBlockProduce(c)
	// The first request is taken and waits for Kafka.
	first := make(chan int, 1)
	go func() {
		code, _, _ := gw.post("/insert/jsonline", "application/x-ndjson", kafkaLines(100, 100))
		first <- code
	}()
	deadline := time.Now().Add(10 * time.Second)
	for metric(t, gw, "sluice_kafka_produce_in_flight_bytes") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("nothing in flight")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The next is refused: the in-flight bound is reached.
	code, body, hdr := gw.post("/insert/jsonline", "application/x-ndjson", kafkaLines(200, 100))
	if code != http.StatusTooManyRequests || hdr.Get("Retry-After") == "" {
		t.Fatalf("while Kafka is down: %d %q (Retry-After %q), want 429 with Retry-After", code, body, hdr.Get("Retry-After"))
	}
	if v := metric(t, gw, "sluice_kafka_produce_backpressure_total"); v < 1 {
		t.Errorf("sluice_kafka_produce_backpressure_total = %v", v)
	}
	// Pushing back is not being broken: the gateway stays in its Service.
	if resp, err := http.Get(gw.url + "/readyz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("gateway /readyz while answering 429: %v %v, want 200", resp, err)
	} else {
		resp.Body.Close()
	}
	select {
	case code := <-first:
		t.Fatalf("a request was acknowledged (%d) while Kafka was down", code)
	default:
	}

	unblock()
	if code := <-first; code != http.StatusOK && code != http.StatusNoContent {
		t.Fatalf("waiting request answered %d after recovery", code)
	}
	sendKafkaLines(t, gw, 200, 100, 100) // the client's retry of the refused one
	waitKafkaStored(t, 300, ix)
	gw.stop()
	ix.stop()
}

func TestE2EKafkaKcat(t *testing.T) {
	needBinary(t)
	t.Parallel()
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Skip("kcat not installed (Debian package kcat): the third-party client test needs it")
	}
	_, brokers := startKafka(t)
	ix := startKafkaIndexer(t, t.TempDir(), brokers, "")

	// kcat produces JSON lines as any application would, one bad one among them.
	var in bytes.Buffer
	now := time.Now().UTC()
	for i := range 50 {
		fmt.Fprintf(&in, `{"time":%q,"level":"info","service":"kcat","message":"line %d"}`+"\n", now.Format(time.RFC3339Nano), i)
	}
	in.WriteString("this is not json\n")
	cmd := exec.Command(kcat, "-b", brokers, "-t", "logs", "-P") // one message per line
	cmd.Stdin = &in
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kcat produce: %v\n%s", err, out)
	}
	waitKafkaStored(t, 50, ix)
	if got := ix.count(`service:kcat "line 7"`); got != 1 {
		t.Errorf(`"line 7" from kcat: %d records`, got)
	}
	// The bad line went to the dead-letter topic with its reason.
	// Output, not CombinedOutput: kcat's "% Reached end of topic" notes on
	// stderr would otherwise land in the middle of a message.
	out, err := exec.Command(kcat, "-b", brokers, "-t", "logs-dead-letter", "-C", "-e", "-o", "beginning", "-f", "%s|%h\n").Output()
	if err != nil {
		t.Fatalf("kcat consume dead letters: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "this is not json|") || !strings.Contains(string(out), "sluice-dead-letter-reason=decode: invalid JSON") {
		t.Errorf("dead-letter topic holds %q", out)
	}

	// kcat reads what a gateway produced: one JSON object per message.
	gw := startKafkaGateway(t, brokers, "")
	sendKafkaLines(t, gw, 0, 10, 10)
	out, err = exec.Command(kcat, "-b", brokers, "-t", "logs", "-C", "-e", "-o", "beginning", "-f", "%s\n").Output()
	if err != nil {
		t.Fatalf("kcat consume: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), `"_msg":"event number 7"`) || !strings.Contains(string(out), `"_stream":"{host=\"h7\",service=\"svc2\"}"`) {
		t.Errorf("kcat read %q", out)
	}
	waitKafkaStored(t, 60, ix)
}

// TestE2EKafkaElasticsearchSink runs an indexer with the Elasticsearch sink
// (go-elasticsearch's BulkIndexer) against a real server that speaks the
// _bulk API: Sluice itself, in its all-in-one role (no templates or data
// streams there: TestE2EKafkaElasticsearchCluster covers those).
func TestE2EKafkaElasticsearchSink(t *testing.T) {
	needBinary(t)
	t.Parallel()
	_, brokers := startKafka(t)
	target := startServer(t, t.TempDir(), "")
	ix := startKafkaIndexer(t, t.TempDir(), brokers,
		"sink:\n  type: elasticsearch\n  elasticsearch:\n    addresses: ["+target.url+"]\n    setup_templates: false\n")
	gw := startKafkaGateway(t, brokers, "")
	const n = 2000
	sendKafkaLines(t, gw, 0, n, 250)
	deadline := time.Now().Add(25 * time.Second)
	for {
		got := target.count("*")
		if got == n && kafkaLagZero(t, []*server{ix}) {
			break
		}
		if got > n || time.Now().After(deadline) {
			t.Fatalf("target holds %d documents, want %d", got, n)
		}
		time.Sleep(200 * time.Millisecond)
	}
	rows := target.queryRows(`seq:42`)
	if len(rows) != 1 || rows[0]["_msg"] != "event number 42" || rows[0]["sluice.stream"] != `{host="h10",service="svc2"}` ||
		rows[0]["service.name"] != "svc2" ||
		!strings.HasPrefix(fmt.Sprint(rows[0]["_id"]), "logs-") {
		t.Errorf("document 42 came out as %v", rows)
	}
	if v := metric(t, ix, "sluice_kafka_consumed_records_total"); v != n {
		t.Errorf("indexer consumed %v, want %d", v, n)
	}
	gw.stop()
	ix.stop()
}
