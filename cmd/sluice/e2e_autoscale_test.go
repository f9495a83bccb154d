package main

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/autoscale"
	"github.com/sluice-log/sluice/internal/kafka"
)

// processScaler is a test's autoscale.Target: each replica is a real
// indexer process (store sink) in the kfake cluster's group, started and
// stopped (SIGTERM, clean exit) as the controller asks.
type processScaler struct {
	t       *testing.T
	brokers string
	mu      sync.Mutex
	running []*server
	history []int
}

func (p *processScaler) Replicas(context.Context) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.running), nil
}

func (p *processScaler) SetReplicas(_ context.Context, n int) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.running) < n {
		p.running = append(p.running, startKafkaIndexer(p.t, p.t.TempDir(), p.brokers, ""))
	}
	for len(p.running) > n {
		last := p.running[len(p.running)-1]
		p.running = p.running[:len(p.running)-1]
		last.stop()
	}
	p.history = append(p.history, n)
	return nil
}

func (p *processScaler) indexers(context.Context) ([]string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var urls []string
	for _, s := range p.running {
		urls = append(urls, s.url+"/metrics")
	}
	return urls, nil
}

// TestE2EAutoscale: the controller, reading the group's lag and end
// offsets from kfake and the indexers' /metrics, scales real indexer
// processes up while records arrive faster than one indexer is configured
// to take, and back down to one once they stop and the lag is gone.
func TestE2EAutoscale(t *testing.T) {
	needBinary(t)
	// Not parallel: the policy scales on records per second sent, which
	// other tests' load beside it would lower.
	_, brokers := startKafka(t)
	gw := startKafkaGateway(t, brokers, "")
	sc := &processScaler{t: t, brokers: brokers}
	if err := sc.SetReplicas(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	gr, err := kafka.NewGroupReader(kafka.ClientOptions{Brokers: []string{brokers}}, "sluice-indexers", "logs", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer gr.Close()
	p := autoscale.DefaultParams()
	p.ReplicaThroughput = 500 // records/s: what the test sends needs more than one
	p.Min, p.Max = 1, 3
	p.Lookahead, p.DrainTarget, p.ScaleDownWindow = time.Second, 10*time.Second, 2*time.Second
	c := &autoscale.Controller{
		Policy:    &autoscale.Sluice{P: p},
		Estimator: autoscale.NewEstimator(p, 5*time.Second),
		Group: func(ctx context.Context) (autoscale.GroupReading, error) {
			l, err := gr.Read(ctx)
			return autoscale.GroupReading{Produced: float64(l.Produced), Lag: float64(l.Total)}, err
		},
		Target:   sc,
		Indexers: sc.indexers,
	}
	ctx := context.Background()
	step := func() *autoscale.Status {
		t.Helper()
		st, err := c.Step(ctx, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return st
	}

	// Records arrive: at least 2,000 records/s while the controller
	// decides every 500 ms, until it asked for more than one indexer.
	step()
	sent := 0
	deadline := time.Now().Add(20 * time.Second)
	for n, _ := sc.Replicas(ctx); n < 2; n, _ = sc.Replicas(ctx) {
		if time.Now().After(deadline) {
			t.Fatalf("still one indexer after %d records in 20 s; decisions %+v", sent, c.Last())
		}
		for end := time.Now().Add(500 * time.Millisecond); time.Now().Before(end); {
			sendKafkaLines(t, gw, sent, 500, 500)
			sent += 500
		}
		st := step()
		t.Logf("sent %d: %+v", sent, st)
	}

	// Nothing more arrives: the lag drains and the controller goes back
	// to one indexer.
	deadline = time.Now().Add(30 * time.Second)
	for {
		time.Sleep(500 * time.Millisecond)
		st := step()
		if n, _ := sc.Replicas(ctx); n == 1 && st != nil && st.Lag == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not back to one indexer with no lag 30 s after the load stopped: %+v (history %v)", st, sc.history)
		}
	}
	l, err := gr.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if l.Total != 0 || l.Produced != int64(sent) {
		t.Errorf("group lag %d over %d records produced, want 0 over %d sent", l.Total, l.Produced, sent)
	}
	t.Logf("replica counts set: %v", sc.history)
	gw.stop()
	for _, s := range sc.running {
		s.stop()
	}
}
