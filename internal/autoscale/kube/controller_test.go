package kube

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/autoscale"
)

// script feeds the controller a group whose ingest rate is given per
// step (every 5 s) and whose lag is given too; it reports produced
// records as the sum of rate × 5 s.
type script struct {
	rates, lags []float64
	i           int
	produced    float64
}

func (s *script) read(context.Context) (autoscale.GroupReading, error) {
	if s.i > 0 {
		s.produced += s.rates[s.i-1] * 5
	}
	r := autoscale.GroupReading{Produced: s.produced, Lag: s.lags[min(s.i, len(s.lags)-1)]}
	s.i++
	return r, nil
}

func newController(t *testing.T, cs interface{ Target() *Target }, dryRun bool, out *bytes.Buffer, g *script) *autoscale.Controller {
	t.Helper()
	p := autoscale.DefaultParams() // 75,000 records/s a replica
	c := &autoscale.Controller{
		Policy:    &autoscale.Sluice{P: p},
		Estimator: autoscale.NewEstimator(p, 30*time.Second),
		Group:     g.read,
		DryRun:    dryRun,
	}
	if out != nil {
		c.Out = out
	}
	if cs != nil {
		c.Target = cs.Target()
	}
	return c
}

type fakeTarget struct{ t *Target }

func (f fakeTarget) Target() *Target { return f.t }

func TestControllerScales(t *testing.T) {
	ctx := context.Background()
	cs := FakeCluster(t, 2)
	tg := &Target{Apps: cs.AppsV1(), Core: cs.CoreV1(), Namespace: "logs", Kind: Deployment, Name: "indexers", MetricsPort: 9280}
	// 600,000 records/s for 30 s, then 150,000 for 90 s.
	g := &script{lags: []float64{0}}
	for i := 0; i < 25; i++ {
		g.rates = append(g.rates, map[bool]float64{true: 600000, false: 150000}[i < 6])
	}
	c := newController(t, fakeTarget{tg}, false, nil, g)
	reg := prometheus.NewRegistry()
	c.RegisterMetrics(reg)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var got []int
	for i := range 25 {
		if _, err := c.Step(ctx, t0.Add(time.Duration(i)*5*time.Second)); err != nil {
			t.Fatal(err)
		}
		got = append(got, WorkloadReplicas(t, cs, Deployment))
	}
	// Up at the first decision (600,000 × 1.05 / 75,000 = 8.4 → 9); the
	// rate falls after 30 s (the decision at 35 s sees it) and the
	// replicas stay until the last high recommendation (at 30 s) is 60 s
	// old: down to 3 at 90 s (step 18).
	want := []int{2, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 3, 3, 3, 3, 3, 3, 3}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("replicas over time\n got %v\nwant %v", got, want)
	}
	for name, want := range map[string]float64{
		"sluice_autoscale_desired_replicas":     3,
		"sluice_autoscale_current_replicas":     3,
		"sluice_autoscale_ingest_rate":          150000,
		"sluice_autoscale_replica_throughput":   75000,
		"sluice_autoscale_recommended_replicas": 3,
	} {
		if v := gauge(t, reg, name); v != want {
			t.Errorf("%s = %v, want %v", name, v, want)
		}
	}

	// The external metric.
	rec := httptest.NewRecorder()
	c.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/autoscale", nil))
	var st autoscale.Status
	if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil || st.Desired != 3 || st.Current != 3 {
		t.Errorf("external metric %s (%v)", rec.Body.String(), err)
	}
}

func TestControllerDryRun(t *testing.T) {
	ctx := context.Background()
	cs := FakeCluster(t, 2)
	tg := &Target{Apps: cs.AppsV1(), Core: cs.CoreV1(), Namespace: "logs", Kind: StatefulSet, Name: "indexers", MetricsPort: 9280}
	var out bytes.Buffer
	c := newController(t, fakeTarget{tg}, true, &out, &script{rates: []float64{600000, 600000, 600000}, lags: []float64{0}})
	rec := httptest.NewRecorder()
	c.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("external metric before a decision: %d", rec.Code)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3 {
		if _, err := c.Step(ctx, t0.Add(time.Duration(i)*5*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if n := WorkloadReplicas(t, cs, StatefulSet); n != 2 {
		t.Errorf("dry run changed spec.replicas to %d", n)
	}
	for _, a := range cs.Actions() {
		if a.GetVerb() == "update" {
			t.Errorf("dry run wrote: %v", a)
		}
	}
	if lines := strings.Count(out.String(), "replicas 2 -> 9 (up; recommended 9) [dry run]"); lines != 2 {
		t.Errorf("dry run printed\n%s\nwant two decisions 2 -> 9", out.String())
	}

	// Without a target, a dry run counts from its own last decision.
	out.Reset()
	c = newController(t, nil, true, &out, &script{rates: []float64{600000, 600000, 600000}, lags: []float64{0}})
	for i := range 3 {
		if _, err := c.Step(ctx, t0.Add(time.Duration(i)*5*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(out.String(), "replicas 1 -> 9 (up") || !strings.Contains(out.String(), "replicas 9 -> 9 (hold") {
		t.Errorf("dry run without a target printed\n%s", out.String())
	}
}

func TestControllerScrapesIndexers(t *testing.T) {
	ctx := context.Background()
	consumed := map[string]float64{"a": 0, "b": 0}
	srv := map[string]*httptest.Server{}
	for _, name := range []string{"a", "b"} {
		srv[name] = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprintf(w, "# TYPE sluice_kafka_consumed_records_total counter\nsluice_kafka_consumed_records_total %g\n", consumed[name])
		}))
		defer srv[name].Close()
	}
	down := httptest.NewServer(http.NotFoundHandler())
	defer down.Close()
	g := &script{rates: []float64{200000, 200000, 200000}, lags: []float64{5e6}}
	c := newController(t, nil, true, nil, g)
	c.Indexers = func(context.Context) ([]string, error) {
		return []string{srv["a"].URL, srv["b"].URL, down.URL}, nil
	}
	reg := prometheus.NewRegistry()
	c.RegisterMetrics(reg)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3 {
		if i > 0 {
			// Behind: each indexer consumed 50,000 records/s.
			consumed["a"] += 250000
			consumed["b"] += 250000
		}
		if _, err := c.Step(ctx, t0.Add(time.Duration(i)*5*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if st := c.Last(); st.Throughput != 50000 {
		t.Errorf("throughput %v, want 50000 measured from the indexers' counters", st.Throughput)
	}
	if v := gauge(t, reg, "sluice_autoscale_indexers_scraped"); v != 2 {
		t.Errorf("indexers scraped %v, want 2", v)
	}
	if v := counter(t, reg, "sluice_autoscale_errors_total", "indexer_metrics"); v != 3 {
		t.Errorf("indexer_metrics errors %v, want 3 (one indexer down, three steps)", v)
	}
}

func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

func counter(t *testing.T, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetValue() == label {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// TestControllerNoScaleDown: with NoScaleDown (store indexers) the
// controller raises the StatefulSet's replicas and never lowers them.
func TestControllerNoScaleDown(t *testing.T) {
	ctx := context.Background()
	cs := FakeCluster(t, 2)
	tg := &Target{Apps: cs.AppsV1(), Core: cs.CoreV1(), Namespace: "logs", Kind: StatefulSet, Name: "indexers", MetricsPort: 9280}
	g := &script{lags: []float64{0}}
	for i := 0; i < 25; i++ {
		g.rates = append(g.rates, map[bool]float64{true: 600000, false: 150000}[i < 6])
	}
	c := newController(t, fakeTarget{tg}, false, nil, g)
	c.NoScaleDown = true
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var last *autoscale.Status
	for i := range 25 {
		st, err := c.Step(ctx, t0.Add(time.Duration(i)*5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		last = st
		if n := WorkloadReplicas(t, cs, StatefulSet); i > 0 && n != 9 {
			t.Fatalf("step %d: %d replicas, want 9 from the first decision on", i, n)
		}
	}
	if last.Recommended != 3 || last.Desired != 9 || last.Reason != "hold: no scale-down" {
		t.Errorf("last decision %+v, want 3 recommended and 9 kept", last)
	}
}
