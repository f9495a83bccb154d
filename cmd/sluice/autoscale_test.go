package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAutoscaleSimulate(t *testing.T) {
	file := filepath.Join(t.TempDir(), "burst.csv")
	if err := os.WriteFile(file, []byte("seconds,rate\n0,50000\n300,50000\n301,400000\n420,400000\n421,50000\n900,50000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"autoscale", "simulate", "--trace", "spike," + file, "--json"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	// The member names are the interface the issue fixes.
	var rs []struct {
		Policy         string   `json:"policy"`
		Trace          string   `json:"trace"`
		ReplicaMinutes *float64 `json:"replica_minutes"`
		DrainSeconds   *float64 `json:"drain_seconds"`
		PeakBacklog    *float64 `json:"peak_backlog"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &rs); err != nil {
		t.Fatalf("%v: %s", err, stdout.String())
	}
	var got []string
	for _, r := range rs {
		if r.ReplicaMinutes == nil || r.DrainSeconds == nil || r.PeakBacklog == nil {
			t.Errorf("%+v lacks a figure", r)
		}
		got = append(got, filepath.Base(r.Trace)+"/"+r.Policy)
	}
	if want := "spike/sluice spike/keda spike/oracle burst.csv/sluice burst.csv/keda burst.csv/oracle"; strings.Join(got, " ") != want {
		t.Errorf("results %q, want %q", got, want)
	}

	stdout.Reset()
	if code := run([]string{"autoscale", "simulate", "--trace", "ramp"}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "replica-minutes") || strings.Count(stdout.String(), "ramp") != 3 {
		t.Errorf("table: exit %d\n%s", code, stdout.String())
	}
	for _, bad := range [][]string{
		{"autoscale", "simulate", "--trace", "/nonexistent.csv"},
		{"autoscale", "simulate", "--drain-target", "0s"},
		{"autoscale", "frobnicate"},
		{"autoscale"},                                   // no brokers
		{"autoscale", "--kafka-brokers", "127.0.0.1:1"}, // nothing to scale
		{"autoscale", "--kafka-brokers", "127.0.0.1:1", "--deployment", "a", "--statefulset", "b"},
		{"autoscale", "--kafka-brokers", "127.0.0.1:1", "--dry-run", "--headroom", "0.5"},
	} {
		stderr.Reset()
		if code := run(bad, &stdout, &stderr); code != 2 {
			t.Errorf("%q: exit %d, want 2: %s", bad, code, stderr.String())
		}
	}
}
