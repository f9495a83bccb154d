package main

import (
	"net/http"
	"syscall"
	"testing"
	"time"
)

const groupLagMetric = `sluice_kafka_group_lag{group="sluice-indexers"}`

// TestE2EKafkaGroupLagStoppedIndexer: one of two indexers is frozen with
// SIGSTOP (it keeps its partitions: its session has not timed out) while
// records keep arriving. The other indexer, whose own partitions have no
// lag, must export the group's lag above zero within 5 s, read from the
// broker; after SIGCONT the lag must go back to zero with every record
// stored once.
func TestE2EKafkaGroupLagStoppedIndexer(t *testing.T) {
	needBinary(t)
	// Not parallel: the lag must show within 5 s.
	_, brokers := startKafka(t)
	gw := startKafkaGateway(t, brokers, "")
	a := startKafkaIndexer(t, t.TempDir(), brokers, "")
	b := startKafkaIndexer(t, t.TempDir(), brokers, "")
	deadline := time.Now().Add(20 * time.Second)
	for metric(t, a, "sluice_kafka_assigned_partitions") == 0 || metric(t, b, "sluice_kafka_assigned_partitions") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the two indexers did not share the partitions")
		}
		time.Sleep(100 * time.Millisecond)
	}
	sendKafkaLines(t, gw, 0, 400, 100)
	waitKafkaStored(t, 400, a, b)

	if err := b.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	sent := 400
	for {
		sendKafkaLines(t, gw, sent, 40, 40) // key = stream: 5 streams reach every partition
		sent += 40
		if v := metric(t, a, groupLagMetric); v > 0 {
			t.Logf("group lag %v after %v", v, time.Since(stopped).Round(time.Millisecond))
			break
		}
		if time.Since(stopped) > 5*time.Second {
			t.Fatalf("%s still 0 five seconds after an indexer was stopped with records arriving", groupLagMetric)
		}
		time.Sleep(50 * time.Millisecond)
	}

	if err := b.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	waitKafkaStored(t, sent, a, b)
	deadline = time.Now().Add(15 * time.Second)
	for metric(t, a, groupLagMetric) != 0 || metric(t, b, groupLagMetric) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("group lag did not return to 0 after SIGCONT: %v and %v", metric(t, a, groupLagMetric), metric(t, b, groupLagMetric))
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, s := range []*server{a, b} {
		resp, err := http.Get(s.url + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("indexer not ready after recovery: %d", resp.StatusCode)
		}
	}
	gw.stop()
	a.stop()
	b.stop()
}
