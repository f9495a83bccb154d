package autoscale

import (
	"testing"
	"time"
)

// TestSimulateBuiltinTraces is issue 18's bar on every shipped trace:
// the Sluice policy drains the 10× spike within 60 s on at most 1.2× the
// oracle's replica-minutes, and beats KEDA's formula on both replica-minutes
// and drain time everywhere.
func TestSimulateBuiltinTraces(t *testing.T) {
	for _, name := range Builtin() {
		t.Run(name, func(t *testing.T) {
			tr, err := LoadBuiltin(name)
			if err != nil {
				t.Fatal(err)
			}
			rs, err := Simulate(tr, DefaultSimOptions())
			if err != nil {
				t.Fatal(err)
			}
			by := map[string]Result{}
			for _, r := range rs {
				by[r.Policy] = r
				t.Logf("%+v", r)
			}
			s, k, o := by["sluice"], by["keda"], by["oracle"]
			if o.PeakBacklog != 0 || o.DrainSeconds != 0 {
				t.Errorf("the oracle fell behind: %+v", o)
			}
			if s.ReplicaMinutes >= k.ReplicaMinutes || s.DrainSeconds >= k.DrainSeconds {
				t.Errorf("sluice (%.1f replica-minutes, %.0f s to drain) does not beat keda (%.1f, %.0f s)", s.ReplicaMinutes, s.DrainSeconds, k.ReplicaMinutes, k.DrainSeconds)
			}
			if s.DrainSeconds > 60 {
				t.Errorf("sluice took %.0f s to drain, want at most 60", s.DrainSeconds)
			}
			if name == "spike" && s.ReplicaMinutes > 1.2*o.ReplicaMinutes {
				t.Errorf("sluice used %.1f replica-minutes, over 1.2 × the oracle's %.1f", s.ReplicaMinutes, o.ReplicaMinutes)
			}
		})
	}
}

func TestSimulateModel(t *testing.T) {
	flat := Trace{Name: "flat", Points: []Point{{0, 150000}, {10 * time.Minute, 150000}}}
	o := DefaultSimOptions()
	rs, err := Simulate(flat, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		switch r.Policy {
		case "oracle":
			if r.ReplicaMinutes != 20 || r.ScaleEvents != 0 {
				t.Errorf("oracle: %+v, want 20 replica-minutes and no scaling", r)
			}
		case "sluice":
			// 150,000 records/s need two replicas of 75,000 exactly; the
			// 5% headroom asks for a third after the first decision (5 s).
			if want := (2.0*5 + 3*595) / 60; r.ReplicaMinutes < want-0.01 || r.ReplicaMinutes > want+0.01 || r.PeakBacklog != 0 {
				t.Errorf("sluice: %+v, want %.2f replica-minutes and no backlog", r, want)
			}
		case "keda":
			// KEDA holds replicas above its minimum only with a lag.
			if r.PeakBacklog == 0 || r.ScaleEvents < 2 {
				t.Errorf("keda: %+v, want a backlog and scaling", r)
			}
		}
	}

	// New pods never start: the one replica the trace's start needed is
	// all the capacity, and the backlog is the rest of what was produced.
	o.Model.StartDelay = time.Hour
	step := Trace{Name: "step", Points: []Point{{0, 0}, {time.Second, 0}, {2 * time.Second, 1075000}, {100 * time.Second, 1075000}}}
	rs, err = Simulate(step, o)
	if err != nil {
		t.Fatal(err)
	}
	if got := rs[0].PeakBacklog; got < 97.5e6 || got > 98.5e6 {
		t.Errorf("peak backlog %.0f with no replica started, want about 98M", got)
	}

	if _, err := Simulate(flat, SimOptions{Params: DefaultParams()}); err == nil {
		t.Error("simulated with a zero model")
	}
}
