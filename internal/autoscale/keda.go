package autoscale

import (
	"math"
	"time"
)

// KEDA models KEDA's Kafka scaler under the HPA's default behaviour, as
// documented by both projects: the scaler's metric is the group's total
// lag, capped at partitions × LagThreshold (allowIdleConsumers off); the
// HPA, every 15 s, wants ceil(lag / LagThreshold) replicas unless that is
// within 10% of the current count (its tolerance), scales up by at most
// max(100%, 4 pods) per period, and scales down to the highest
// recommendation of the last 5 minutes (its default stabilisation window).
type KEDA struct {
	LagThreshold float64
	Partitions   int
	Min, Max     int
	// DownWindow is the HPA's scale-down stabilisation window (300 s by
	// default).
	DownWindow time.Duration

	history []Decision
}

// HPAPeriod is how often the HPA controller decides (its default
// --horizontal-pod-autoscaler-sync-period).
const HPAPeriod = 15 * time.Second

// Decide is what the HPA sets after observing o.
func (k *KEDA) Decide(o Observation) Decision {
	lag := min(o.Lag, float64(k.Partitions)*k.LagThreshold)
	cur := max(o.Replicas, 1)
	rec := int(math.Ceil(lag/k.LagThreshold - 1e-9))
	if ratio := lag / (k.LagThreshold * float64(cur)); math.Abs(ratio-1) <= 0.1 {
		rec = o.Replicas
	}
	rec = clamp(rec, k.Min, k.Max)
	d := Decision{At: o.At, Recommended: rec, Replicas: rec}
	cut := o.At.Add(-k.DownWindow)
	i := 0
	for i < len(k.history) && !k.history[i].At.After(cut) {
		i++
	}
	k.history = append(k.history[i:], d)
	switch {
	case rec > o.Replicas:
		d.Replicas = min(rec, max(2*o.Replicas, o.Replicas+4))
		d.Reason = "up"
	case rec < o.Replicas:
		high := rec
		for _, h := range k.history {
			high = max(high, h.Recommended)
		}
		d.Replicas = min(high, o.Replicas)
		d.Reason = "down"
	default:
		d.Reason = "hold"
	}
	return d
}
