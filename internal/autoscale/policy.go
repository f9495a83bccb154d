package autoscale

import (
	"fmt"
	"math"
	"time"
)

// Observation is what a policy sees at one decision.
type Observation struct {
	At time.Time
	// Lag is the consumer group's lag in records (end offsets minus
	// committed offsets over every partition).
	Lag float64
	// Rate is the ingest rate in records/s (how fast end offsets grow).
	Rate float64
	// Trend is how fast Rate changes, in records/s per second.
	Trend float64
	// Throughput is what one replica was measured to consume in records/s
	// while it had a backlog to work on (its capacity); 0 when unknown.
	Throughput float64
	// Replicas is the replica count asked for now (ready or starting).
	Replicas int
}

// Params are the Sluice policy's parameters.
type Params struct {
	// DrainTarget: any backlog should be gone within this long.
	DrainTarget time.Duration
	// Lookahead is how far ahead the rate is predicted: the time a new
	// replica takes to start and join the group, plus one decision
	// interval.
	Lookahead time.Duration
	// ReplicaThroughput is one replica's capacity in records/s until it is
	// measured (Observation.Throughput).
	ReplicaThroughput float64
	// Headroom multiplies the predicted rate (1.0: none).
	Headroom float64
	// ScaleDownWindow: a scale-down takes the highest recommendation of
	// this window (the HPA's stabilisation window, shorter by default).
	ScaleDownWindow time.Duration
	// Drained: lag of at most this many seconds of ingest counts as no
	// backlog (what a healthy group holds between fetches and commits).
	Drained  time.Duration
	Min, Max int
}

// DefaultParams are the controller's and the simulator's defaults.
func DefaultParams() Params {
	return Params{
		DrainTarget:       60 * time.Second,
		Lookahead:         25 * time.Second,
		ReplicaThroughput: 75000,
		Headroom:          1.05,
		ScaleDownWindow:   60 * time.Second,
		Drained:           2 * time.Second,
		Min:               1,
		Max:               64,
	}
}

// Validate says what is wrong with p.
func (p Params) Validate() error {
	switch {
	case p.DrainTarget <= 0:
		return fmt.Errorf("drain target must be above 0, got %v", p.DrainTarget)
	case p.Lookahead < 0:
		return fmt.Errorf("lookahead must not be negative, got %v", p.Lookahead)
	case p.ReplicaThroughput <= 0:
		return fmt.Errorf("replica throughput must be above 0, got %v", p.ReplicaThroughput)
	case p.Headroom < 1:
		return fmt.Errorf("headroom must be at least 1, got %v", p.Headroom)
	case p.ScaleDownWindow < 0:
		return fmt.Errorf("scale-down window must not be negative, got %v", p.ScaleDownWindow)
	case p.Min < 0 || p.Max < max(p.Min, 1):
		return fmt.Errorf("replicas must satisfy 0 <= min <= max and max >= 1, got min %d max %d", p.Min, p.Max)
	}
	return nil
}

// Backlogged says whether o's lag is a backlog rather than the records in
// flight of a group that keeps up.
func (p Params) Backlogged(o Observation) bool {
	return o.Lag > max(o.Rate*p.Drained.Seconds(), 1)
}

// Recommend is the replica count the Sluice policy wants for o, before
// stabilisation: enough replicas for the rate predicted one Lookahead
// ahead (rate plus a rising trend), plus enough to drain the backlog that
// will exist when new replicas are up within what is left of DrainTarget.
// It depends on nothing but p and o.
func Recommend(p Params, o Observation) int {
	per := o.Throughput
	if per <= 0 {
		per = p.ReplicaThroughput
	}
	ahead := p.Lookahead.Seconds()
	// Only a rising trend is extrapolated: scaling down on a predicted
	// fall would throw capacity away before the fall happened. The
	// prediction goes at most maxGrowth times the rate.
	predicted := min(max(o.Rate+max(o.Trend, 0)*ahead, 0), o.Rate*maxGrowth)
	// Headroom is slack that drains what a rebalance pause holds back
	// without asking for more replicas.
	need := predicted * p.Headroom
	if p.Backlogged(o) {
		// The backlog keeps growing at the current rate until new
		// replicas are up, then has to be gone within what is left of
		// the drain target.
		capNow := float64(o.Replicas) * per
		lag := o.Lag + max(o.Rate-capNow, 0)*ahead
		// The budget keeps a margin for the rebalance that lets the
		// new replicas in and for measuring late.
		budget := max(p.DrainTarget.Seconds()-ahead-drainMargin.Seconds(), p.DrainTarget.Seconds()/4)
		need = max(need, predicted+lag/budget)
	}
	return clamp(int(math.Ceil(need/per-1e-9)), p.Min, p.Max)
}

// drainMargin is taken off the time left to drain a backlog.
const drainMargin = 10 * time.Second

// maxGrowth bounds the predicted rate to this multiple of the current one.
const maxGrowth = 2

func clamp(n, lo, hi int) int { return min(max(n, lo), hi) }

// Decision is one decision of a policy.
type Decision struct {
	At          time.Time
	Recommended int // Recommend's answer
	Replicas    int // after stabilisation: what to set
	Reason      string
}

// Sluice is the Sluice policy with its stabilisation state: the
// recommendations of the last ScaleDownWindow made without a backlog. Scaling up is immediate;
// scaling down waits until there is no backlog and then takes the highest
// recommendation of the window, so that a dip does not throw away replicas
// the next second needs again.
type Sluice struct {
	P       Params
	history []Decision
}

// Decide is the replica count to set after o.
func (s *Sluice) Decide(o Observation) Decision {
	rec := Recommend(s.P, o)
	d := Decision{At: o.At, Recommended: rec, Replicas: rec}
	cut := o.At.Add(-s.P.ScaleDownWindow)
	i := 0
	for i < len(s.history) && !s.history[i].At.After(cut) {
		i++
	}
	s.history = s.history[i:]
	backlog := s.P.Backlogged(o)
	if !backlog {
		// What draining a backlog needs passes with the backlog: only
		// what the rate needs is remembered against dips.
		s.history = append(s.history, d)
	}
	switch {
	case rec > o.Replicas:
		d.Reason = "up"
	case rec == o.Replicas:
		d.Reason = "hold"
	case backlog:
		// Keep every replica until the backlog is gone: draining
		// linearly instead of exponentially.
		d.Replicas, d.Reason = o.Replicas, "hold: backlog"
	default:
		high := rec
		for _, h := range s.history {
			high = max(high, h.Recommended)
		}
		d.Replicas = min(high, o.Replicas)
		d.Reason = "down"
		if d.Replicas == o.Replicas {
			d.Reason = "hold: stabilising"
		}
	}
	return d
}
