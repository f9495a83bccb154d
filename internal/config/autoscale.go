package config

import (
	"fmt"
	"net/url"
	"time"
)

// AutoscaleConfig configures `sluice autoscale`. Its keys are the
// command's flags with dashes as underscores, and a flag given on the
// command line overrides its key. The defaults are autoscale.DefaultParams
// (cmd/sluice's tests hold them equal; config must not import the policy).
type AutoscaleConfig struct {
	Deployment        string   `yaml:"deployment" doc:"The indexers' Deployment whose replica count sluice autoscale sets through the scale subresource; give this or statefulset, not both (neither: dry_run only)."`
	StatefulSet       string   `yaml:"statefulset" doc:"The indexers' StatefulSet whose replica count sluice autoscale sets through the scale subresource."`
	Namespace         string   `yaml:"namespace" doc:"The workload's namespace; empty: the pod's own, else default."`
	Kubeconfig        string   `yaml:"kubeconfig" doc:"Kubeconfig file; empty: the pod's service account."`
	MetricsPort       int      `yaml:"metrics_port" doc:"Port of the indexers' HTTP API, where their /metrics (sluice_kafka_consumed_records_total) is read from every ready pod the workload's selector names."`
	IndexerMetrics    []string `yaml:"indexer_metrics" doc:"The indexers' /metrics URLs, instead of finding them from the workload's pods."`
	DryRun            bool     `yaml:"dry_run" doc:"Print every decision and change nothing (the decisions are still served at listen, for KEDA or an HPA that owns the scale)."`
	Listen            string   `yaml:"listen" doc:"Address serving /metrics (sluice_autoscale_*), /api/v1/autoscale (the last decision as JSON, an external metric for KEDA's metrics-api scaler), /healthz and /readyz (ready once the consumer group was read); empty: none. Use :9281 in a pod."`
	Interval          Duration `yaml:"interval" doc:"How often to read the group and the indexers and decide."`
	DrainTarget       Duration `yaml:"drain_target" doc:"Any backlog should be gone within this long: the policy asks for the replicas that drain the lag expected when new ones are up within what is left of it."`
	Lookahead         Duration `yaml:"lookahead" doc:"How far ahead the rate is predicted from its trend: a new indexer's start-up time plus interval."`
	ReplicaThroughput float64  `yaml:"replica_throughput" doc:"Records/s one indexer consumes, until measured from the indexers' /metrics while they had a backlog."`
	Headroom          float64  `yaml:"headroom" doc:"Capacity over the predicted rate (1.05: 5%); it drains what a rebalance pause holds back. At least 1."`
	ScaleDownWindow   Duration `yaml:"scale_down_window" doc:"Scale down to the highest recommendation of this window, and never while there is a backlog (the HPA's stabilisation window; its default is 5m)."`
	ScaleDown         bool     `yaml:"scale_down" doc:"Lower the replica count when the policy says so; false only ever raises it (store indexers: a pod removed takes its volume's share of the group's copy offline)."`
	MinReplicas       int      `yaml:"min_replicas" doc:"Fewest replicas."`
	MaxReplicas       int      `yaml:"max_replicas" doc:"Most replicas (no more than the topic's partitions consume)."`
}

func defaultAutoscale(c *Config) {
	c.Autoscale = AutoscaleConfig{
		MetricsPort:       9280,
		IndexerMetrics:    []string{},
		Listen:            "127.0.0.1:9281",
		Interval:          Duration(5 * time.Second),
		DrainTarget:       Duration(60 * time.Second),
		Lookahead:         Duration(25 * time.Second),
		ReplicaThroughput: 75000,
		Headroom:          1.05,
		ScaleDownWindow:   Duration(60 * time.Second),
		ScaleDown:         true,
		MinReplicas:       1,
		MaxReplicas:       64,
	}
}

func (c *Config) validateAutoscale() []error {
	a := c.Autoscale
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if a.Deployment != "" && a.StatefulSet != "" {
		bad("autoscale.deployment and autoscale.statefulset: give one, not both")
	}
	if a.MetricsPort < 1 || a.MetricsPort > 65535 {
		bad("autoscale.metrics_port must be a port, 1 to 65535, got %d", a.MetricsPort)
	}
	for _, u := range a.IndexerMetrics {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			bad("autoscale.indexer_metrics: %q is not an http:// or https:// URL", u)
		}
	}
	if a.Interval <= 0 {
		bad("autoscale.interval must be positive")
	}
	if a.DrainTarget <= 0 {
		bad("autoscale.drain_target must be positive")
	}
	if a.Lookahead < 0 || a.ScaleDownWindow < 0 {
		bad("autoscale.lookahead and autoscale.scale_down_window must not be negative")
	}
	if !(a.ReplicaThroughput > 0) {
		bad("autoscale.replica_throughput must be positive")
	}
	if !(a.Headroom >= 1) {
		bad("autoscale.headroom must be at least 1, got %v", a.Headroom)
	}
	if a.MinReplicas < 0 || a.MaxReplicas < max(a.MinReplicas, 1) {
		bad("autoscale: replicas must satisfy 0 <= min_replicas <= max_replicas and max_replicas >= 1, got %d and %d", a.MinReplicas, a.MaxReplicas)
	}
	return errs
}
