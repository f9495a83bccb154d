package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sluice-log/sluice/internal/autoscale"
)

func runAutoscale(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "simulate" {
		return runAutoscaleSimulate(args[1:], stdout, stderr)
	}
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Fprintln(stderr, "Usage: sluice autoscale simulate [flags]\n\nRun 'sluice autoscale simulate --help' for its flags.")
		return nil
	}
	return usagef("want a subcommand: simulate")
}

func runAutoscaleSimulate(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("autoscale simulate", "autoscale simulate [--trace spike|ramp|daily|FILE[,…]] [--json] [model and policy flags]", `
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
an hour), daily (a day with bursts). A FILE has one "seconds,records_per_second"
line per point, linear in between; # starts a comment.`, stderr)
	traces := fs.String("trace", strings.Join(autoscale.Builtin(), ","), "`traces` to replay, comma-separated: a built-in name or a CSV file")
	asJSON := fs.Bool("json", false, "print one JSON array of {policy, trace, replica_minutes, drain_seconds, peak_backlog, …}")
	o := autoscale.DefaultSimOptions()
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
	kedaThreshold := fs.Float64("keda-lag-threshold", 0, "the ScaledObject's lagThreshold (default: 5 s of one replica's throughput)")
	if _, err := parseInterleaved(fs, args); err != nil {
		return err
	}
	o.Params.ReplicaThroughput = o.Model.ReplicaThroughput
	o.Params.Max = o.Model.Partitions
	o.KEDALagThreshold = 5 * o.Model.ReplicaThroughput
	if *kedaThreshold > 0 {
		o.KEDALagThreshold = *kedaThreshold
	}
	if err := o.Params.Validate(); err != nil {
		return usageError{err}
	}
	var all []autoscale.Result
	for _, name := range splitList(*traces) {
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
	if *asJSON {
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
