package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/autoscale"
	"github.com/sluice-log/sluice/internal/config"
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

// TestAutoscaleConfig: the autoscale section's defaults are the policy's,
// its keys are the flags', and a flag given overrides the file.
func TestAutoscaleConfig(t *testing.T) {
	def := config.Default().Autoscale
	if got, want := autoscaleParams(def), autoscale.DefaultParams(); got != want {
		t.Errorf("the autoscale section's defaults make %+v, want the policy's %+v", got, want)
	}
	fs, _ := autoscaleFlags(&def, io.Discard)
	keys := map[string]bool{}
	for _, o := range config.Options() {
		if k, ok := strings.CutPrefix(o.Path, "autoscale."); ok {
			keys[k] = true
			if fs.Lookup(strings.ReplaceAll(k, "_", "-")) == nil {
				t.Errorf("autoscale.%s has no flag --%s", k, strings.ReplaceAll(k, "_", "-"))
			}
		}
	}
	fs.VisitAll(func(f *flag.Flag) {
		if k := strings.ReplaceAll(f.Name, "-", "_"); !keys[k] && !slices.Contains([]string{"config", "kafka_brokers", "topic", "group"}, k) {
			t.Errorf("--%s has no key autoscale.%s", f.Name, k)
		}
	})

	file := filepath.Join(t.TempDir(), "sluice.yaml")
	if err := os.WriteFile(file, []byte("kafka:\n  brokers: [kafka:9092]\nautoscale:\n  statefulset: sluice-indexer-a\n  drain_target: 2m\n  max_replicas: 12\n  indexer_metrics: [http://ix-0:9280/metrics]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, _, err := parseAutoscaleArgs([]string{"--config", file, "--max-replicas", "8", "--headroom", "1.2"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a := cfg.Autoscale
	if a.StatefulSet != "sluice-indexer-a" || a.DrainTarget != config.Duration(2*time.Minute) || a.MaxReplicas != 8 || a.Headroom != 1.2 ||
		a.Lookahead != def.Lookahead || !slices.Equal(a.IndexerMetrics, []string{"http://ix-0:9280/metrics"}) {
		t.Errorf("file and flags made %+v", a)
	}
	cfg, _, err = parseAutoscaleArgs([]string{"--config", file, "--indexer-metrics", "http://a:1/metrics,http://b:1/metrics", "--statefulset", "other", "--dry-run"}, io.Discard)
	if err != nil || !slices.Equal(cfg.Autoscale.IndexerMetrics, []string{"http://a:1/metrics", "http://b:1/metrics"}) || cfg.Autoscale.StatefulSet != "other" || !cfg.Autoscale.DryRun {
		t.Errorf("flags over the file: %+v, %v", cfg.Autoscale, err)
	}
	// Both workloads, one from the file and one from a flag.
	if _, _, err := parseAutoscaleArgs([]string{"--config", file, "--deployment", "d"}, io.Discard); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Errorf("a Deployment and a StatefulSet: %v", err)
	}
}

// TestAutoscaleSimulateConfig: simulate's policy is --config's autoscale
// section where given, its max_replicas bounds the replicas below the
// partitions, and a flag given overrides the file.
func TestAutoscaleSimulateConfig(t *testing.T) {
	file := filepath.Join(t.TempDir(), "sluice.yaml")
	if err := os.WriteFile(file, []byte("autoscale:\n  drain_target: 2m\n  headroom: 1.2\n  replica_throughput: 50000\n  interval: 10s\n  max_replicas: 12\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	def := autoscale.DefaultSimOptions()
	for _, tt := range []struct {
		name       string
		args       []string
		drain      time.Duration
		headroom   float64
		throughput float64
		interval   time.Duration
		max        int
	}{
		{"defaults", nil, def.Params.DrainTarget, def.Params.Headroom, def.Model.ReplicaThroughput, def.Interval, def.Model.Partitions},
		{"no config, more partitions", []string{"--partitions", "100"}, def.Params.DrainTarget, def.Params.Headroom, def.Model.ReplicaThroughput, def.Interval, 100},
		{"config", []string{"--config", file}, 2 * time.Minute, 1.2, 50000, 10 * time.Second, 12},
		{"flags over config", []string{"--drain-target", "30s", "--config", file, "--replica-throughput", "9000", "--partitions", "8"}, 30 * time.Second, 1.2, 9000, 10 * time.Second, 8},
	} {
		o, _, err := parseAutoscaleSimulateArgs(tt.args, io.Discard)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		p := o.Params
		if p.DrainTarget != tt.drain || p.Headroom != tt.headroom || o.Model.ReplicaThroughput != tt.throughput || p.ReplicaThroughput != tt.throughput || o.Interval != tt.interval || p.Max != tt.max {
			t.Errorf("%s: drain %v headroom %v throughput %v/%v interval %v max %d; want %v %v %v %v %d",
				tt.name, p.DrainTarget, p.Headroom, o.Model.ReplicaThroughput, p.ReplicaThroughput, o.Interval, p.Max, tt.drain, tt.headroom, tt.throughput, tt.interval, tt.max)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("autoscale:\n  headroom: 0.5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := parseAutoscaleSimulateArgs([]string{"--config", bad}, io.Discard); err == nil || !strings.Contains(err.Error(), "headroom") {
		t.Errorf("a bad autoscale section: %v", err)
	}
}
