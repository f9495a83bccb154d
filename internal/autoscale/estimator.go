package autoscale

import (
	"time"
)

// Sample is one reading of the group: what the controller reads from the
// brokers and the indexers' /metrics, or the simulator from its model.
type Sample struct {
	At time.Time
	// Produced is the sum of the topic's end offsets (records ever
	// produced); its growth is the ingest rate.
	Produced float64
	// Lag is the group's lag in records.
	Lag float64
	// Consumed maps each indexer that answered to its consumed-records
	// counter (sluice_kafka_consumed_records_total); a counter that went
	// down (a restarted indexer) counts from its new value.
	Consumed map[string]float64
	// Replicas is the replica count asked for now.
	Replicas int
}

// Estimator turns successive Samples into Observations: the rate from the
// growth of end offsets, the trend from the rates of TrendWindow (see
// trend), and one replica's throughput from indexers that had a
// backlog to work on (kept while there is none).
type Estimator struct {
	TrendWindow time.Duration
	// CapacityWindow: one replica's capacity is the highest of the
	// measurements of this window.
	CapacityWindow time.Duration
	// Drained is Params.Drained: the consumed rate is a capacity only
	// while the lag is above this many seconds of ingest.
	Drained time.Duration

	prev       *Sample
	rates      []ratePoint
	capacity   []ratePoint
	throughput float64
}

type ratePoint struct {
	at   time.Time
	rate float64
}

// NewEstimator makes an estimator with p's Drained and a trend window.
func NewEstimator(p Params, trendWindow time.Duration) *Estimator {
	return &Estimator{TrendWindow: trendWindow, CapacityWindow: time.Minute, Drained: p.Drained}
}

// Observe takes the next sample. It returns false for the first one (or
// one no later than the last): no rate is known yet, and no decision
// should be taken on it.
func (e *Estimator) Observe(s Sample) (Observation, bool) {
	o := Observation{At: s.At, Lag: s.Lag, Replicas: s.Replicas, Throughput: e.throughput}
	if e.prev == nil || !s.At.After(e.prev.At) {
		e.prev = &s
		return o, false
	}
	dt := s.At.Sub(e.prev.At).Seconds()
	rate := max(s.Produced-e.prev.Produced, 0) / dt
	e.rates = append(e.rates, ratePoint{s.At, rate})
	cut := s.At.Add(-e.TrendWindow)
	i := 0
	for i < len(e.rates)-2 && e.rates[i].at.Before(cut) {
		i++
	}
	e.rates = e.rates[i:]
	o.Rate, o.Trend = rate, trend(e.rates)

	backlog := func(lag float64) bool { return lag > max(rate*e.Drained.Seconds(), 1) }
	if backlog(s.Lag) && backlog(e.prev.Lag) {
		var sum float64
		n := 0
		for k, c := range s.Consumed {
			p, ok := e.prev.Consumed[k]
			if !ok || c < p {
				continue
			}
			sum += (c - p) / dt
			n++
		}
		if n > 0 && sum > 0 {
			e.capacity = append(e.capacity, ratePoint{s.At, sum / float64(n)})
		}
	}
	// A rebalance pause or a replica still warming up only lowers what
	// one interval measures, so the capacity is the highest measurement
	// of the last CapacityWindow (the last one when all are older).
	i = 0
	for i < len(e.capacity)-1 && e.capacity[i].at.Before(s.At.Add(-e.CapacityWindow)) {
		i++
	}
	e.capacity = e.capacity[i:]
	e.throughput = 0
	for _, c := range e.capacity {
		e.throughput = max(e.throughput, c.rate)
	}
	o.Throughput = e.throughput
	e.prev = &s
	return o, true
}

// trend is the rate's slope when both halves of the window agree on it:
// the smaller of their least-squares slopes when they have the same sign,
// else 0. A step in the rate (a spike) is no trend: one half of the window
// is flat, and extrapolating the step's slope would ask for replicas the
// next minute does not need; a ramp rises in both halves.
func trend(pts []ratePoint) float64 {
	if len(pts) < 4 {
		return 0
	}
	h := len(pts) / 2
	a, b := slope(pts[:h+len(pts)%2]), slope(pts[h:])
	switch {
	case a > 0 && b > 0:
		return min(a, b)
	case a < 0 && b < 0:
		return max(a, b)
	}
	return 0
}

// slope is the least-squares slope of rate over time, 0 with fewer than
// two points.
func slope(pts []ratePoint) float64 {
	if len(pts) < 2 {
		return 0
	}
	t0 := pts[0].at
	var sx, sy, sxx, sxy float64
	for _, p := range pts {
		x := p.at.Sub(t0).Seconds()
		sx += x
		sy += p.rate
		sxx += x * x
		sxy += x * p.rate
	}
	n := float64(len(pts))
	den := n*sxx - sx*sx
	if den == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / den
}
