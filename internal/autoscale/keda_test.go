package autoscale

import (
	"testing"
	"time"
)

func TestKEDA(t *testing.T) {
	at := func(s int) time.Time { return epoch.Add(time.Duration(s) * time.Second) }
	k := &KEDA{LagThreshold: 1000, Partitions: 10, Min: 1, Max: 10, DownWindow: 5 * time.Minute}
	for _, st := range []struct {
		sec      int
		lag      float64
		replicas int
		want     int
	}{
		{0, 0, 1, 1},
		{15, 2500, 1, 3},     // ceil(2.5)
		{30, 50000, 3, 7},    // capped at partitions × threshold → 10, at most 3+4 per period
		{45, 50000, 7, 10},   // then 100%: min(14, 10)
		{60, 9500, 10, 10},   // within the 10% tolerance
		{75, 0, 10, 10},      // the 5 minute window remembers 10
		{75 + 300, 0, 10, 1}, // until it passed
		{400, 1050, 1, 1},    // 1.05: within tolerance
	} {
		d := k.Decide(Observation{At: at(st.sec), Lag: st.lag, Replicas: st.replicas})
		if d.Replicas != st.want {
			t.Errorf("at %d s lag %.0f with %d replicas: %d, want %d", st.sec, st.lag, st.replicas, d.Replicas, st.want)
		}
	}
}
