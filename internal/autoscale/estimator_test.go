package autoscale

import (
	"testing"
	"time"
)

func TestEstimator(t *testing.T) {
	at := func(s int) time.Time { return epoch.Add(time.Duration(s) * time.Second) }
	e := NewEstimator(DefaultParams(), 30*time.Second)
	if _, ok := e.Observe(Sample{At: at(0)}); ok {
		t.Fatal("the first sample gave an observation")
	}
	// A ramp: the rate rises 1,000 records/s every second.
	var produced float64
	var o Observation
	for s := 5; s <= 40; s += 5 {
		produced += float64(5 * 1000 * (s - 2)) // the mean rate over (s-5, s]
		var ok bool
		if o, ok = e.Observe(Sample{At: at(s), Produced: produced}); !ok {
			t.Fatal("no observation")
		}
	}
	if o.Rate != 38000 || o.Trend < 999 || o.Trend > 1001 {
		t.Errorf("ramp: rate %.0f trend %.1f, want 38000 and 1000", o.Rate, o.Trend)
	}

	// A step is no trend.
	e = NewEstimator(DefaultParams(), 30*time.Second)
	produced = 0
	for s := 0; s <= 30; s += 5 {
		if s > 15 {
			produced += 5 * 100000
		} else {
			produced += 5 * 10000
		}
		o, _ = e.Observe(Sample{At: at(s), Produced: produced})
	}
	if o.Rate != 100000 || o.Trend != 0 {
		t.Errorf("step: rate %.0f trend %.1f, want 100000 and 0", o.Rate, o.Trend)
	}
}

func TestEstimatorThroughput(t *testing.T) {
	at := func(s int) time.Time { return epoch.Add(time.Duration(s) * time.Second) }
	e := NewEstimator(DefaultParams(), 30*time.Second)
	obs := func(s int, produced, lag float64, consumed map[string]float64) Observation {
		o, _ := e.Observe(Sample{At: at(s), Produced: produced, Lag: lag, Consumed: consumed})
		return o
	}
	obs(0, 0, 0, map[string]float64{"a": 0, "b": 0})
	// Keeping up: what they consume is the ingest, not their capacity.
	if o := obs(10, 100000, 0, map[string]float64{"a": 50000, "b": 50000}); o.Throughput != 0 {
		t.Errorf("throughput %.0f measured without a backlog", o.Throughput)
	}
	// Behind: 10 s with a backlog, a at 8,000/s, b at 6,000/s.
	obs(20, 300000, 1e6, map[string]float64{"a": 60000, "b": 60000})
	if o := obs(30, 500000, 1e6, map[string]float64{"a": 140000, "b": 120000}); o.Throughput != 7000 {
		t.Errorf("throughput %.0f, want 7000 (the mean of 8000 and 6000)", o.Throughput)
	}
	// A pause only lowers a measurement: the highest of the minute stays;
	// c restarted (its counter went down) and is left out.
	if o := obs(40, 700000, 1e6, map[string]float64{"a": 160000, "b": 140000, "c": 5}); o.Throughput != 7000 {
		t.Errorf("throughput %.0f after a pause, want 7000 kept", o.Throughput)
	}
	// A minute later the old measurement is gone.
	obs(100, 1.9e6, 1e6, map[string]float64{"a": 400000, "b": 380000})
	if o := obs(110, 2.1e6, 1e6, map[string]float64{"a": 450000, "b": 430000}); o.Throughput != 5000 {
		t.Errorf("throughput %.0f, want 5000 (the old figures expired)", o.Throughput)
	}
}
