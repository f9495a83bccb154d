package main

import (
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
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
	}

	ix := startKafkaIndexer(t, dir, brokers, cfg)
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
