package autoscale

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// Model is the simulated consumer group: what a replica consumes, how long
// a new one takes to start and join, and how long every member pauses when
// the group's membership changes.
type Model struct {
	ReplicaThroughput float64       // records/s one replica consumes at most
	StartDelay        time.Duration // from the scale request to consuming
	// RebalancePause: after the group's membership changed, only the
	// members that were in it before and after consume (cooperative-sticky
	// rebalancing, as the indexers do: the partitions that move pause).
	RebalancePause time.Duration
	Partitions     int // replicas beyond this many stay idle
}

// DefaultModel: 75,000 records/s per replica (one store indexer in
// docs/benchmarks.md), 20 s to start, 3 s per rebalance, 64 partitions.
func DefaultModel() Model {
	return Model{ReplicaThroughput: 75000, StartDelay: 20 * time.Second, RebalancePause: 3 * time.Second, Partitions: 64}
}

// Result is one policy's score on one trace. The JSON names are an
// interface (sluice autoscale simulate --json).
type Result struct {
	Policy string `json:"policy"`
	Trace  string `json:"trace"`
	// ReplicaMinutes: replicas asked for (starting ones included) over
	// time.
	ReplicaMinutes float64 `json:"replica_minutes"`
	// DrainSeconds: the longest stretch with a backlog (lag above
	// Params.Drained seconds of ingest), from its start until drained.
	DrainSeconds float64 `json:"drain_seconds"`
	// PeakBacklog: the highest lag, records.
	PeakBacklog float64 `json:"peak_backlog"`
	// OverTargetSeconds: seconds a backlog had lasted longer than the
	// drain target.
	OverTargetSeconds float64 `json:"over_target_seconds"`
	MaxReplicas       int     `json:"max_replicas"`
	ScaleEvents       int     `json:"scale_events"`
}

// SimOptions say what to simulate.
type SimOptions struct {
	Model  Model
	Params Params // the Sluice policy's; DrainTarget and Drained score every policy
	// Interval is how often the Sluice policy decides.
	Interval time.Duration
	// TrendWindow is the Estimator's.
	TrendWindow time.Duration
	// KEDALagThreshold is the ScaledObject's lagThreshold.
	KEDALagThreshold float64
}

// DefaultSimOptions are sluice autoscale simulate's defaults.
func DefaultSimOptions() SimOptions {
	m := DefaultModel()
	p := DefaultParams()
	p.ReplicaThroughput = m.ReplicaThroughput
	p.Max = m.Partitions
	return SimOptions{
		Model: m, Params: p, Interval: 5 * time.Second, TrendWindow: 30 * time.Second,
		// Five seconds of one replica's work: the standing lag KEDA needs
		// to hold n replicas is then about five seconds of ingest.
		KEDALagThreshold: 5 * m.ReplicaThroughput,
	}
}

// decider is one policy in the simulator: it sees a sample every interval
// and answers a replica count, or false to keep the current one.
type decider interface {
	interval() time.Duration
	decide(s Sample) (int, bool)
}

type sluiceDecider struct {
	s     *Sluice
	est   *Estimator
	every time.Duration
}

func (d *sluiceDecider) interval() time.Duration { return d.every }
func (d *sluiceDecider) decide(s Sample) (int, bool) {
	o, ok := d.est.Observe(s)
	if !ok {
		return 0, false
	}
	return d.s.Decide(o).Replicas, true
}

type kedaDecider struct{ k *KEDA }

func (d *kedaDecider) interval() time.Duration { return HPAPeriod }
func (d *kedaDecider) decide(s Sample) (int, bool) {
	return d.k.Decide(Observation{At: s.At, Lag: s.Lag, Replicas: s.Replicas}).Replicas, true
}

// Simulate scores the Sluice policy, KEDA and the oracle on tr.
func Simulate(tr Trace, o SimOptions) ([]Result, error) {
	if err := o.Params.Validate(); err != nil {
		return nil, err
	}
	if o.Model.ReplicaThroughput <= 0 || o.Model.Partitions <= 0 || o.Interval <= 0 || o.KEDALagThreshold <= 0 {
		return nil, fmt.Errorf("replica throughput, partitions, interval and KEDA lag threshold must be above 0")
	}
	sl := &sluiceDecider{s: &Sluice{P: o.Params}, est: NewEstimator(o.Params, o.TrendWindow), every: o.Interval}
	kd := &kedaDecider{&KEDA{LagThreshold: o.KEDALagThreshold, Partitions: o.Model.Partitions, Min: o.Params.Min, Max: o.Params.Max, DownWindow: 5 * time.Minute}}
	return []Result{
		run(tr, o, "sluice", o.Model, sl),
		run(tr, o, "keda", o.Model, kd),
		run(tr, o, "oracle", Model{ReplicaThroughput: o.Model.ReplicaThroughput, Partitions: o.Model.Partitions}, nil),
	}, nil
}

// epoch is the simulated clock's start; only differences matter.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// run replays tr against one policy (nil: the oracle, which sets at every
// second the fewest replicas whose capacity covers that second's ingest,
// knowing it, with nothing to start or rebalance) in one-second steps.
func run(tr Trace, o SimOptions, name string, m Model, d decider) Result {
	const step = time.Second
	per := m.ReplicaThroughput
	oracle := func(t time.Duration) int {
		r := max(tr.RateAt(t), tr.RateAt(t+step))
		return clamp(int(math.Ceil(r/per-1e-9)), max(o.Params.Min, 1), m.Partitions)
	}
	type pod struct {
		id      string
		readyAt time.Duration
	}
	var pods []pod
	nextID := 0
	consumed := map[string]float64{}
	var pauseUntil time.Duration
	pauseReady := 0 // the members that keep consuming during the pause
	lastReady := 0
	rebalance := func(now time.Duration, kept int) {
		if now >= pauseUntil {
			pauseReady = kept
		} else {
			pauseReady = min(pauseReady, kept)
		}
		pauseUntil = max(pauseUntil, now+m.RebalancePause)
	}
	res := Result{Policy: name, Trace: tr.Name}
	setReplicas := func(now time.Duration, n int) {
		if n != len(pods) {
			res.ScaleEvents++
		}
		for len(pods) < n {
			pods = append(pods, pod{strconv.Itoa(nextID), now + m.StartDelay})
			nextID++
		}
		for len(pods) > n {
			last := pods[len(pods)-1]
			pods = pods[:len(pods)-1]
			if last.readyAt <= now {
				lastReady--
				rebalance(now, lastReady)
			}
			delete(consumed, last.id)
		}
	}
	setReplicas(0, oracle(0))
	for i := range pods {
		pods[i].readyAt = 0
	}
	lastReady = len(pods)
	res.ScaleEvents = 0
	var lag, produced, replicaSeconds, episode float64
	for t := time.Duration(0); t < tr.Duration(); t += step {
		if d == nil {
			setReplicas(t, oracle(t))
		} else if t%d.interval() == 0 {
			s := Sample{At: epoch.Add(t), Produced: produced, Lag: lag, Consumed: map[string]float64{}, Replicas: len(pods)}
			for k, v := range consumed {
				s.Consumed[k] = v
			}
			if n, ok := d.decide(s); ok {
				setReplicas(t, n)
			}
		}
		ready := 0
		for _, p := range pods {
			if p.readyAt <= t {
				ready++
			}
		}
		if ready > lastReady && t > 0 {
			rebalance(t, lastReady)
		}
		lastReady = ready
		rate := (tr.RateAt(t) + tr.RateAt(t+step)) / 2
		in := rate * step.Seconds()
		produced += in
		lag += in
		consuming := ready
		if t < pauseUntil {
			consuming = min(ready, pauseReady)
		}
		capacity := float64(min(consuming, m.Partitions)) * per * step.Seconds()
		done := min(lag, capacity)
		lag -= done
		if ready > 0 {
			for _, p := range pods {
				if p.readyAt <= t {
					consumed[p.id] += done / float64(ready)
				}
			}
		}
		replicaSeconds += float64(len(pods))
		res.MaxReplicas = max(res.MaxReplicas, len(pods))
		res.PeakBacklog = max(res.PeakBacklog, lag)
		if lag > max(rate*o.Params.Drained.Seconds(), 1) {
			episode += step.Seconds()
			res.DrainSeconds = max(res.DrainSeconds, episode)
			if episode > o.Params.DrainTarget.Seconds() {
				res.OverTargetSeconds += step.Seconds()
			}
		} else {
			episode = 0
		}
	}
	res.ReplicaMinutes = replicaSeconds / 60
	return res
}
