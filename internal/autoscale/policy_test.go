package autoscale

import (
	"testing"
	"time"
)

func TestRecommend(t *testing.T) {
	p := DefaultParams() // 75,000 records/s a replica, 5% headroom, 60 s target, 25 s ahead
	for _, c := range []struct {
		name string
		o    Observation
		want int
	}{
		{"idle", Observation{}, 1},
		{"steady", Observation{Rate: 300000, Replicas: 5}, 5},                                      // 315,000 / 75,000 = 4.2
		{"measured throughput wins", Observation{Rate: 300000, Throughput: 50000, Replicas: 5}, 7}, // 6.3
		{"rising trend", Observation{Rate: 300000, Trend: 4000, Replicas: 5}, 6},                   // 400,000 × 1.05 / 75,000 = 5.6
		{"falling trend is not extrapolated", Observation{Rate: 300000, Trend: -4000, Replicas: 5}, 5},
		{"trend at most doubles the rate", Observation{Rate: 100000, Trend: 1e6, Replicas: 2}, 3}, // 210,000
		{"in-flight lag is no backlog", Observation{Rate: 300000, Lag: 500000, Replicas: 5}, 5},
		// 3M behind with 4 replicas at 300,000/s: the lag stays about
		// the same while new ones start (capacity 300,000), and has 25 s
		// left: 300,000 + 3,000,000 / 25 = 420,000.
		{"backlog", Observation{Rate: 300000, Lag: 3e6, Replicas: 4}, 6},
		// Same with 2 replicas: 150,000/s short for 25 s adds 3.75M.
		{"backlog growing", Observation{Rate: 300000, Lag: 3e6, Replicas: 2}, 8},
		{"max", Observation{Rate: 1e9, Replicas: 5}, 64},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Recommend(p, c.o); got != c.want {
				t.Errorf("Recommend(%+v) = %d, want %d", c.o, got, c.want)
			}
		})
	}
}

func TestSluiceDecide(t *testing.T) {
	at := func(s int) time.Time { return epoch.Add(time.Duration(s) * time.Second) }
	s := &Sluice{P: DefaultParams()}
	steps := []struct {
		sec        int
		o          Observation
		want       int
		wantReason string
	}{
		{0, Observation{Rate: 600000, Replicas: 4}, 9, "up"}, // up at once
		{5, Observation{Rate: 600000, Replicas: 9}, 9, "hold"},
		{10, Observation{Rate: 150000, Replicas: 9}, 9, "hold: stabilising"}, // a dip
		{40, Observation{Rate: 150000, Replicas: 9}, 9, "hold: stabilising"},
		{50, Observation{Rate: 150000, Lag: 2e6, Replicas: 9}, 9, "hold: backlog"},
		{66, Observation{Rate: 150000, Replicas: 9}, 3, "down"}, // 60 s after the last high one
		{70, Observation{Rate: 150000, Replicas: 3}, 3, "hold"},
	}
	for _, st := range steps {
		st.o.At = at(st.sec)
		d := s.Decide(st.o)
		if d.Replicas != st.want || d.Reason != st.wantReason {
			t.Errorf("at %d s %+v: %d (%s), want %d (%s)", st.sec, st.o, d.Replicas, d.Reason, st.want, st.wantReason)
		}
	}
}

func TestParamsValidate(t *testing.T) {
	for _, mod := range []func(*Params){
		func(p *Params) { p.DrainTarget = 0 },
		func(p *Params) { p.Lookahead = -1 },
		func(p *Params) { p.ReplicaThroughput = 0 },
		func(p *Params) { p.Headroom = 0.5 },
		func(p *Params) { p.ScaleDownWindow = -1 },
		func(p *Params) { p.Min, p.Max = 3, 2 },
		func(p *Params) { p.Min, p.Max = 0, 0 },
	} {
		p := DefaultParams()
		mod(&p)
		if p.Validate() == nil {
			t.Errorf("%+v validated", p)
		}
	}
	if err := DefaultParams().Validate(); err != nil {
		t.Error(err)
	}
}
