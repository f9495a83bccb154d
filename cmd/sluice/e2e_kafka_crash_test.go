package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// kafkaCrashSteps are the fault points (internal/faultpoint) on a store
// indexer's path from a consumed batch to a committed offset, in the order
// a batch reaches them, then the store's own commit steps. "name:2" is the
// point's second hit: the watermark file is written twice per batch
// (Pending, then Done).
var kafkaCrashSteps = []string{
	"sink.watermark.synced:1",
	"sink.store.pending",
	"wal.synced",
	"sink.store.ingested",
	"sink.watermark.synced:2",
	"sink.store.done",
	"kafka.commit",
	"kafka.committed",
	"store.flush.parts_written",
	"store.flush.committed",
	"store.merge.part_written",
	"store.merge.committed",
}

// TestE2EKafkaCrashPoints kills a store indexer at each step of its
// protocol in turn, through SLUICE_FAULT in the real binary, while a
// gateway keeps producing; after each crash the next run starts on the same
// data directory (and crashes at the next step). In the end every Kafka
// offset (kafka.partition, kafka.offset) must be stored exactly once.
func TestE2EKafkaCrashPoints(t *testing.T) {
	needBinary(t)
	t.Parallel()
	_, brokers := startKafka(t)
	gw := startKafkaGateway(t, brokers, "")
	dir := t.TempDir()
	// Static membership: each run takes the crashed one's place (and
	// partitions) at once, as a StatefulSet pod restarted with its name
	// does. The store flushes and merges often so that its steps are reached.
	cfg := "store:\n  flush_interval: 150ms\n  merge_interval: 150ms\n  merge_fan_in: 2\n" +
		"kafka:\n  instance_id: crash-test\n  session_timeout: 10s\n  rebalance_timeout: 3s\n"

	// Each run gets records until it dies at its step, a batch at a time,
	// so that the records in flight stay few and the test short.
	sent := 0
	// On failure, say which kind of duplicate it is: a record produced
	// twice (Kafka holds more than was sent; the gateway's side), one
	// offset stored twice (the indexer's) or a record from elsewhere, and
	// after which run it appeared.
	adm := kafkaAdmin(t, brokers)
	var marks []string
	defer func() {
		if t.Failed() {
			reportKafkaRuns(t, gw, adm, sent, marks)
		}
	}()
	for _, step := range kafkaCrashSteps {
		ix := launchServer(t, []string{"SLUICE_FAULT=" + step}, dir, cfg, "--role", "indexer", "--kafka-brokers", brokers)
		deadline := time.Now().Add(30 * time.Second)
		var err error
	run:
		for {
			sendKafkaLines(t, gw, sent, 100, 100)
			sent += 100
			select {
			case err = <-ix.done:
				break run
			case <-time.After(200 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatalf("fault point %s not reached within 30s", step)
			}
		}
		var ee *exec.ExitError
		if !errors.As(err, &ee) || !ee.Sys().(syscall.WaitStatus).Signaled() ||
			!strings.Contains(ix.logs.String(), "fault point "+strings.Split(step, ":")[0]+" reached") {
			t.Fatalf("indexer with SLUICE_FAULT=%s ended with %v, want SIGKILL at the point:\n%s", step, err, ix.logs.String())
		}
		wm, _ := os.ReadFile(filepath.Join(dir, "kafka-offsets.json"))
		marks = append(marks, fmt.Sprintf("after %s: %d sent, Kafka holds %s; watermarks %s", step, sent, kafkaEnds(adm), wm))
	}

	ix := startKafkaIndexer(t, dir, brokers, cfg)
	defer func() {
		if t.Failed() {
			reportStoredTwice(t, ix)
		}
	}()
	waitKafkaStored(t, sent, ix)
	for _, by := range []string{"kafka.partition, kafka.offset", "seq"} {
		rows := ix.queryRows(`* | stats count() as n by ` + by + ` | sort by n desc | limit 1`)
		if len(rows) != 1 || rows[0]["n"] != float64(1) {
			t.Errorf("stored more than once (by %s): %v", by, rows)
		}
	}
	gw.stop()
	ix.stop()
}

// kafkaAdmin is an admin client of brokers, closed when t ends.
func kafkaAdmin(t *testing.T, brokers string) *kadm.Client {
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(brokers, ",")...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

// kafkaEnds says how many records topic logs holds, in all and by
// partition.
func kafkaEnds(adm *kadm.Client) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ends, err := adm.ListEndOffsets(ctx, "logs")
	if err != nil {
		return "? (" + err.Error() + ")"
	}
	var total int64
	by := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) { total += o.Offset; by[o.Partition] = o.Offset })
	return fmt.Sprintf("%d %v", total, by)
}

// reportKafkaRuns logs what the gateway produced and Kafka holds against
// what was sent, the gateway's warnings, and Kafka and the watermark file
// after each run.
func reportKafkaRuns(t *testing.T, gw *server, adm *kadm.Client, sent int, marks []string) {
	if v, ok := metricValue(t, gw, "sluice_kafka_produced_records_total"); ok {
		t.Logf("the gateway counts %v records produced; %d sent; Kafka holds %s", v, sent, kafkaEnds(adm))
	}
	for _, l := range strings.Split(gw.logs.String(), "\n") {
		if strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") {
			t.Logf("gateway: %s", l)
		}
	}
	for _, m := range marks {
		t.Logf("%s", m)
	}
}

// reportStoredTwice logs the records that came from no Kafka offset and
// the (partition, offset) pairs and seq values stored more than once.
func reportStoredTwice(t *testing.T, ix *server) {
	t.Logf("records without kafka.offset: %d", ix.count("NOT kafka.offset:*"))
	for _, by := range []string{"kafka.partition, kafka.offset", "seq"} {
		rows := ix.queryRows(`* | stats count() as n by ` + by + ` | filter n:>1 | sort by ` + by)
		t.Logf("stored more than once by %s: %d values, the first: %v", by, len(rows), rows[:min(len(rows), 20)])
	}
}
