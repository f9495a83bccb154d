package main

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sluice-log/sluice/internal/autoscale"
	"github.com/sluice-log/sluice/internal/autoscale/kube"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/kafka"
)

func runAutoscale(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "simulate" {
		return runAutoscaleSimulate(args[1:], stdout, stderr)
	}
	cfg, o, err := parseAutoscaleArgs(args, stderr)
	if err != nil {
		return err
	}
	a := cfg.Autoscale
	p := autoscaleParams(a)
	interval := time.Duration(a.Interval)
	log := newLogger(cfg.Log, stderr)
	gr, err := kafka.NewGroupReader(kafkaClient(cfg), cmp.Or(o.group, cfg.Kafka.ConsumerGroup), cmp.Or(o.topic, cfg.Kafka.Topic), log)
	if err != nil {
		return err
	}
	defer gr.Close()
	c := &autoscale.Controller{
		Policy:    &autoscale.Sluice{P: p},
		Estimator: autoscale.NewEstimator(p, 30*time.Second),
		Group: func(ctx context.Context) (autoscale.GroupReading, error) {
			l, err := gr.Read(ctx)
			return autoscale.GroupReading{Produced: float64(l.Produced), Lag: float64(l.Total)}, err
		},
		HTTP:        &http.Client{Timeout: 5 * time.Second},
		DryRun:      a.DryRun,
		NoScaleDown: !a.ScaleDown,
		Out:         stdout,
		Log:         log,
	}
	if name := cmp.Or(a.Deployment, a.StatefulSet); name != "" {
		kind := kube.Deployment
		if a.StatefulSet != "" {
			kind = kube.StatefulSet
		}
		rc, err := kube.Config(a.Kubeconfig)
		if err != nil {
			return err
		}
		tg, err := kube.New(rc, cmp.Or(a.Namespace, podNamespace()), kind, name, a.MetricsPort)
		if err != nil {
			return err
		}
		c.Target, c.Indexers = tg, tg.Indexers
	}
	if len(a.IndexerMetrics) > 0 {
		urls := a.IndexerMetrics
		c.Indexers = func(context.Context) ([]string, error) { return urls, nil }
	}
	reg := prometheus.NewRegistry()
	c.RegisterMetrics(reg)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if a.Listen != "" {
		ln, err := net.Listen("tcp", a.Listen)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", a.Listen, err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		mux.Handle("GET /api/v1/autoscale", c)
		mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprintln(w, "ok")
		})
		mux.HandleFunc("GET /readyz", c.ServeReady)
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
		log.Info("sluice autoscale serving its decisions", "addr", ln.Addr().String(), "dry_run", a.DryRun)
	}
	c.Run(ctx, interval)
	return nil
}

// autoscaleOptions are sluice autoscale's flags outside the autoscale
// section: the file, and the kafka section's.
type autoscaleOptions struct{ config, brokers, topic, group string }

// autoscaleFlags defines sluice autoscale's flags, those of the autoscale
// section bound to a (whose values are their defaults).
func autoscaleFlags(a *config.AutoscaleConfig, stderr io.Writer) (*flag.FlagSet, *autoscaleOptions) {
	fs := newFlagSet("autoscale", "autoscale [--config FILE] (--deployment NAME | --statefulset NAME) [--namespace NS] [--dry-run] [flags]\n       sluice autoscale simulate [flags]", `
Scales the indexers of a consumer group: every --interval it reads the
group's lag and the topic's end offsets from the brokers (kafka section of
--config), and each indexer's consumed-records counter from its /metrics
(the ready pods the workload's selector names, at --metrics-port, or
--indexer-metrics), and sets the replica count of a Deployment or
StatefulSet through the Kubernetes scale subresource. The policy is the one
'sluice autoscale simulate' scores (docs/scaling.md): enough replicas for the
rate predicted --lookahead ahead plus what drains any backlog within
--drain-target; up at once, down after --scale-down-window and never during
a backlog.

With --dry-run it prints every decision and changes nothing (without a
workload it counts from its own last decision). Either way it serves its
decisions at --listen: /metrics (sluice_autoscale_*) and /api/v1/autoscale,
a JSON object whose desired_replicas KEDA's metrics-api scaler or an HPA on
an external metric can scale on (target value 1), so that KEDA keeps owning
the scale (run this with --dry-run then). /healthz answers while it runs,
/readyz once it has read the consumer group (and the workload's replicas).

Every flag but --config, --kafka-brokers, --topic and --group is also a key
of the autoscale section of --config, with underscores for dashes
(autoscale.drain_target); a flag given overrides the file.

In a pod it uses the pod's service account (RBAC: get, update and patch on
deployments/scale or statefulsets/scale, list on pods); elsewhere
--kubeconfig. Run 'sluice autoscale simulate --help' for the simulator.`, stderr)
	o := &autoscaleOptions{}
	fs.StringVar(&o.config, "config", "", "YAML configuration `file` (its kafka section: brokers, topic, consumer_group, TLS, SASL; its autoscale section)")
	fs.StringVar(&o.brokers, "kafka-brokers", "", "Kafka bootstrap `brokers`, HOST:PORT[,…] (overrides kafka.brokers)")
	fs.StringVar(&o.topic, "topic", "", "`topic` the indexers consume (default kafka.topic)")
	fs.StringVar(&o.group, "group", "", "the indexers' consumer `group` (default kafka.consumer_group)")
	fs.StringVar(&a.Deployment, "deployment", a.Deployment, "scale this Deployment `name`")
	fs.StringVar(&a.StatefulSet, "statefulset", a.StatefulSet, "scale this StatefulSet `name`")
	fs.StringVar(&a.Namespace, "namespace", a.Namespace, "the workload's `namespace` (default: the pod's own, else \"default\")")
	fs.StringVar(&a.Kubeconfig, "kubeconfig", a.Kubeconfig, "kubeconfig `file` (default: the pod's service account)")
	fs.IntVar(&a.MetricsPort, "metrics-port", a.MetricsPort, "`port` of the indexers' HTTP API, for their /metrics")
	fs.Func("indexer-metrics", "the indexers' /metrics `URLs`, comma-separated, instead of finding them from the workload's pods", func(s string) error {
		a.IndexerMetrics = splitList(s)
		return nil
	})
	fs.BoolVar(&a.DryRun, "dry-run", a.DryRun, "print every decision and change nothing")
	fs.StringVar(&a.Listen, "listen", a.Listen, "`address` serving /metrics, /api/v1/autoscale, /healthz and /readyz (empty: none)")
	fs.DurationVar((*time.Duration)(&a.Interval), "interval", time.Duration(a.Interval), "how often to read and decide")
	fs.DurationVar((*time.Duration)(&a.DrainTarget), "drain-target", time.Duration(a.DrainTarget), "any backlog should be gone within this long")
	fs.DurationVar((*time.Duration)(&a.Lookahead), "lookahead", time.Duration(a.Lookahead), "how far ahead the rate is predicted: a new indexer's start-up time plus --interval")
	fs.Float64Var(&a.ReplicaThroughput, "replica-throughput", a.ReplicaThroughput, "records/s one indexer consumes, until measured from the indexers' /metrics during a backlog")
	fs.Float64Var(&a.Headroom, "headroom", a.Headroom, "capacity over the predicted rate (1.05: 5%)")
	fs.DurationVar((*time.Duration)(&a.ScaleDownWindow), "scale-down-window", time.Duration(a.ScaleDownWindow), "scale down to the highest recommendation of this window")
	fs.BoolVar(&a.ScaleDown, "scale-down", a.ScaleDown, "lower the replica count when the policy says so (--scale-down=false only raises it: for store indexers)")
	fs.IntVar(&a.MinReplicas, "min-replicas", a.MinReplicas, "fewest replicas")
	fs.IntVar(&a.MaxReplicas, "max-replicas", a.MaxReplicas, "most replicas (no more than the topic's partitions are useful)")
	return fs, o
}

// parseAutoscaleArgs parses sluice autoscale's flags and its --config:
// the file's autoscale section over the defaults, the flags given over
// both (the returned cfg.Autoscale).
func parseAutoscaleArgs(args []string, stderr io.Writer) (config.Config, *autoscaleOptions, error) {
	def := config.Default().Autoscale
	fs, o := autoscaleFlags(&def, stderr)
	cfg, err := parseKafkaConfigFlags(fs, args, &o.config, &o.brokers)
	if err != nil {
		return cfg, nil, err
	}
	// The flags override the file: parse them again over its values.
	again, _ := autoscaleFlags(&cfg.Autoscale, io.Discard)
	if _, err := parseInterleaved(again, args); err != nil {
		return cfg, nil, err
	}
	a := cfg.Autoscale
	if a.Deployment != "" && a.StatefulSet != "" {
		return cfg, nil, usagef("give --deployment or --statefulset, not both")
	}
	if a.Deployment == "" && a.StatefulSet == "" && !a.DryRun {
		return cfg, nil, usagef("nothing to scale: give --deployment or --statefulset (or --dry-run)")
	}
	if a.Interval <= 0 {
		return cfg, nil, usagef("--interval must be above 0")
	}
	if err := autoscaleParams(a).Validate(); err != nil {
		return cfg, nil, usageError{err}
	}
	return cfg, o, nil
}

// autoscaleParams are the policy's parameters of a; the rest are the
// policy's defaults.
func autoscaleParams(a config.AutoscaleConfig) autoscale.Params {
	p := autoscale.DefaultParams()
	p.DrainTarget, p.Lookahead = time.Duration(a.DrainTarget), time.Duration(a.Lookahead)
	p.ReplicaThroughput, p.Headroom = a.ReplicaThroughput, a.Headroom
	p.ScaleDownWindow = time.Duration(a.ScaleDownWindow)
	p.Min, p.Max = a.MinReplicas, a.MaxReplicas
	return p
}

// podNamespace is the namespace of the pod this runs in, "default"
// outside one.
func podNamespace() string {
	b, err := os.ReadFile("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
	if ns := strings.TrimSpace(string(b)); err == nil && ns != "" {
		return ns
	}
	return "default"
}

// simulateFlags are sluice autoscale simulate's flags outside the options.
type simulateFlags struct {
	config, traces string
	asJSON         bool
	kedaThreshold  float64
}

// autoscaleSimulateFlags defines sluice autoscale simulate's flags, the
// model's and policy's bound to o (whose values are their defaults).
func autoscaleSimulateFlags(o *autoscale.SimOptions, stderr io.Writer) (*flag.FlagSet, *simulateFlags) {
	fs := newFlagSet("autoscale simulate", "autoscale simulate [--config FILE] [--trace spike|ramp|daily|bench|FILE[,…]] [--json] [model and policy flags]", `
Replays a load trace (records/s over time) against a model of a consumer
group of indexers (each consumes --replica-throughput records/s, a new one
starts after --start-delay, and the partitions that move pause for
--rebalance-pause when the group changes) under three policies, and scores
each: replica-minutes, the longest time a backlog took to drain, the peak
backlog, and the seconds a backlog had lasted longer than --drain-target.

  sluice   Sluice's policy, the very code 'sluice autoscale' runs: enough
           replicas for the rate predicted --lookahead ahead from the rate
           and its trend, plus what drains a backlog within --drain-target;
           scales down after --scale-down-window, never during a backlog.
  keda     KEDA's Kafka scaler (replicas = ceil(lag / --keda-lag-threshold),
           capped at the partitions) under the HPA's defaults: a decision
           every 15 s, 10% tolerance, up by at most max(100%, 4 pods) per
           period, down to the highest recommendation of 5 minutes.
  oracle   the fewest replicas that keep up each second, knowing the load,
           with nothing to start or rebalance: the lower bound.

Built-in traces: spike (10x for 5 minutes), ramp (50k to 1M records/s over
an hour), daily (a day with bursts), bench (three sluice-bench runs: a 1M
records/s flood, half that under queries, quiet, 20k records/s). A FILE has one "seconds,records_per_second"
line per point, linear in between; # starts a comment.

With --config, the policy's keys of its autoscale section (interval,
drain_target, lookahead, replica_throughput, headroom, scale_down_window,
min_replicas) are the defaults of the flags of the same names, and its
max_replicas bounds the replicas below --partitions, so that the policy
scored is the one 'sluice autoscale --config' runs; a flag given
overrides the file. Its scale_down is not simulated.`, stderr)
	f := &simulateFlags{}
	fs.StringVar(&f.config, "config", "", "YAML configuration `file` whose autoscale section gives the policy's parameters")
	fs.StringVar(&f.traces, "trace", strings.Join(autoscale.Builtin(), ","), "`traces` to replay, comma-separated: a built-in name or a CSV file")
	fs.BoolVar(&f.asJSON, "json", false, "print one JSON array of {policy, trace, replica_minutes, drain_seconds, peak_backlog, …}")
	fs.Float64Var(&o.Model.ReplicaThroughput, "replica-throughput", o.Model.ReplicaThroughput, "records/s one indexer consumes (the model's, and the policy's until measured)")
	fs.DurationVar(&o.Model.StartDelay, "start-delay", o.Model.StartDelay, "time from asking for a replica until it consumes")
	fs.DurationVar(&o.Model.RebalancePause, "rebalance-pause", o.Model.RebalancePause, "pause of the partitions that move when the group changes")
	fs.IntVar(&o.Model.Partitions, "partitions", o.Model.Partitions, "partitions of the topic: the most replicas that consume")
	fs.DurationVar(&o.Params.DrainTarget, "drain-target", o.Params.DrainTarget, "any backlog should be gone within this long")
	fs.DurationVar(&o.Params.Lookahead, "lookahead", o.Params.Lookahead, "how far ahead the rate is predicted (start delay plus one interval)")
	fs.DurationVar(&o.Params.ScaleDownWindow, "scale-down-window", o.Params.ScaleDownWindow, "scale down to the highest recommendation of this window")
	fs.Float64Var(&o.Params.Headroom, "headroom", o.Params.Headroom, "capacity over the predicted rate (1.05: 5%)")
	fs.IntVar(&o.Params.Min, "min-replicas", o.Params.Min, "fewest replicas")
	fs.DurationVar(&o.Interval, "interval", o.Interval, "how often Sluice's policy decides")
	fs.Float64Var(&f.kedaThreshold, "keda-lag-threshold", 0, "the ScaledObject's lagThreshold (default: 5 s of one replica's throughput)")
	return fs, f
}

// parseAutoscaleSimulateArgs parses sluice autoscale simulate's flags
// over the defaults, or over the policy's keys of --config's autoscale
// section.
func parseAutoscaleSimulateArgs(args []string, stderr io.Writer) (autoscale.SimOptions, *simulateFlags, error) {
	o := autoscale.DefaultSimOptions()
	fs, f := autoscaleSimulateFlags(&o, stderr)
	if _, err := parseInterleaved(fs, args); err != nil {
		return o, nil, err
	}
	maxReplicas := 0
	if f.config != "" {
		cfg, err := config.Read(f.config)
		if err == nil {
			err = cfg.Validate()
		}
		if err != nil {
			return o, nil, fmt.Errorf("config %s: %w", f.config, err)
		}
		// The flags override the file: parse them again over its values.
		a := cfg.Autoscale
		o = autoscale.DefaultSimOptions()
		o.Params = autoscaleParams(a)
		o.Model.ReplicaThroughput, o.Interval = a.ReplicaThroughput, time.Duration(a.Interval)
		maxReplicas = a.MaxReplicas
		fs, f = autoscaleSimulateFlags(&o, io.Discard)
		if _, err := parseInterleaved(fs, args); err != nil {
			return o, nil, err
		}
	}
	o.Params.ReplicaThroughput = o.Model.ReplicaThroughput
	o.Params.Max = o.Model.Partitions
	if maxReplicas > 0 && maxReplicas < o.Params.Max {
		o.Params.Max = maxReplicas
	}
	o.KEDALagThreshold = 5 * o.Model.ReplicaThroughput
	if f.kedaThreshold > 0 {
		o.KEDALagThreshold = f.kedaThreshold
	}
	if o.Interval <= 0 {
		return o, nil, usagef("--interval must be above 0")
	}
	if err := o.Params.Validate(); err != nil {
		return o, nil, usageError{err}
	}
	return o, f, nil
}

func runAutoscaleSimulate(args []string, stdout, stderr io.Writer) error {
	o, f, err := parseAutoscaleSimulateArgs(args, stderr)
	if err != nil {
		return err
	}
	var all []autoscale.Result
	for _, name := range splitList(f.traces) {
		tr, err := loadTrace(name)
		if err != nil {
			return err
		}
		rs, err := autoscale.Simulate(tr, o)
		if err != nil {
			return usageError{err}
		}
		all = append(all, rs...)
	}
	if f.asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(all)
	}
	printSimulation(stdout, all, o.Params.DrainTarget)
	return nil
}

// loadTrace reads a built-in trace by name, else a file.
func loadTrace(name string) (autoscale.Trace, error) {
	for _, b := range autoscale.Builtin() {
		if name == b {
			return autoscale.LoadBuiltin(name)
		}
	}
	f, err := os.Open(name)
	if err != nil {
		return autoscale.Trace{}, usagef("trace %q is neither built in (%s) nor a readable file: %v", name, strings.Join(autoscale.Builtin(), ", "), err)
	}
	defer f.Close()
	return autoscale.ParseTrace(name, f)
}

func printSimulation(w io.Writer, rs []autoscale.Result, target time.Duration) {
	oracle := map[string]float64{}
	for _, r := range rs {
		if r.Policy == "oracle" {
			oracle[r.Trace] = r.ReplicaMinutes
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "trace\tpolicy\treplica-minutes\t× oracle\tdrain s\tpeak backlog\ts over %v\tmax replicas\tscalings\t\n", target)
	for _, r := range rs {
		ratio := "-"
		if o := oracle[r.Trace]; o > 0 {
			ratio = fmt.Sprintf("%.2f", r.ReplicaMinutes/o)
		}
		fmt.Fprintf(tw, "%s\t%s\t%.1f\t%s\t%.0f\t%.0f\t%.0f\t%d\t%d\t\n", r.Trace, r.Policy, r.ReplicaMinutes, ratio, r.DrainSeconds, r.PeakBacklog, r.OverTargetSeconds, r.MaxReplicas, r.ScaleEvents)
	}
	tw.Flush()
}
