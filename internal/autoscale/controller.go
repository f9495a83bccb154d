package autoscale

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// GroupReading is one read of the consumer group from the brokers.
type GroupReading struct {
	Produced float64 // sum of the topic's end offsets
	Lag      float64 // end minus committed offsets, summed
}

// Target is what the controller scales: a Deployment's or StatefulSet's
// scale subresource in Kubernetes, or a test's processes.
type Target interface {
	// Replicas is the replica count asked for now.
	Replicas(ctx context.Context) (int, error)
	// SetReplicas asks for n replicas.
	SetReplicas(ctx context.Context, n int) error
}

// Controller is sluice autoscale: every interval it reads the group and
// the indexers' consumed-record counters, turns them into an Observation
// (Estimator), decides with the Sluice policy and sets the target's
// replicas, or only prints and publishes the decision (DryRun).
type Controller struct {
	Policy    *Sluice
	Estimator *Estimator
	// Group reads the consumer group's lag and end offsets.
	Group func(ctx context.Context) (GroupReading, error)
	// Target is scaled; nil only with DryRun (the current count is then
	// the last decision's).
	Target Target
	// Indexers lists the /metrics URLs of the indexers; nil: none (the
	// throughput stays Params.ReplicaThroughput).
	Indexers func(ctx context.Context) ([]string, error)
	HTTP     *http.Client
	DryRun   bool
	// NoScaleDown keeps the replicas when the policy would lower them:
	// for store indexers, whose volumes' data goes offline with their
	// pods.
	NoScaleDown bool
	// Out gets one line per decision with DryRun.
	Out io.Writer
	Log *slog.Logger

	m    *controllerMetrics
	mu   sync.Mutex
	last *Status
	// read: a step has read the group (and the target) once; readErr is
	// why the steps before it could not, for /readyz.
	read    bool
	readErr error
}

// Status is the controller's last decision: the external metric that KEDA
// (metrics-api scaler, valueLocation desired_replicas) or an HPA reads.
type Status struct {
	At          time.Time `json:"at"`
	Desired     int       `json:"desired_replicas"`
	Recommended int       `json:"recommended_replicas"`
	Current     int       `json:"current_replicas"`
	Reason      string    `json:"reason"`
	Lag         float64   `json:"lag"`
	Rate        float64   `json:"rate"`
	Trend       float64   `json:"trend"`
	Throughput  float64   `json:"replica_throughput"`
	DryRun      bool      `json:"dry_run"`
}

type controllerMetrics struct {
	desired, recommended, current  prometheus.Gauge
	lag, rate, trend, throughput   prometheus.Gauge
	decisions, errors              *prometheus.CounterVec
	indexersScraped, lastDecisionT prometheus.Gauge
}

// NewControllerMetrics registers the controller's metrics; a Controller
// without them (nil) publishes none.
func (c *Controller) RegisterMetrics(reg prometheus.Registerer) {
	g := func(name, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	}
	m := &controllerMetrics{
		desired:         g("sluice_autoscale_desired_replicas", "The replica count the controller decided (set on the target unless --dry-run); KEDA's metrics-api scaler or an HPA may scale on it with a target of 1 per replica."),
		recommended:     g("sluice_autoscale_recommended_replicas", "What the policy recommended before scale-down stabilisation."),
		current:         g("sluice_autoscale_current_replicas", "The target's replica count when the controller last read it."),
		lag:             g("sluice_autoscale_group_lag", "The consumer group's lag (records) the last decision saw."),
		rate:            g("sluice_autoscale_ingest_rate", "Records/s produced to the topic (growth of its end offsets), as the last decision saw it."),
		trend:           g("sluice_autoscale_ingest_trend", "How fast the ingest rate changes (records/s per second), as the last decision saw it."),
		throughput:      g("sluice_autoscale_replica_throughput", "Records/s one indexer consumes (measured while there was a backlog; the configured figure until then)."),
		indexersScraped: g("sluice_autoscale_indexers_scraped", "Indexers whose /metrics answered at the last decision."),
		lastDecisionT:   g("sluice_autoscale_last_decision_timestamp_seconds", "When the controller last decided (Unix time)."),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_autoscale_decisions_total", Help: "Decisions by reason (up, down, hold, hold: backlog, hold: stabilising, hold: no scale-down).",
		}, []string{"reason"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_autoscale_errors_total", Help: "Failed reads or writes by stage (kafka, scale_read, scale_write, indexer_metrics).",
		}, []string{"stage"}),
	}
	reg.MustRegister(m.desired, m.recommended, m.current, m.lag, m.rate, m.trend, m.throughput, m.indexersScraped, m.lastDecisionT, m.decisions, m.errors)
	c.m = m
}

func (c *Controller) countError(stage string) {
	if c.m != nil {
		c.m.errors.WithLabelValues(stage).Inc()
	}
}

// Step reads, decides and acts once. It returns nil Status while the
// rate is not known yet (the first read).
func (c *Controller) Step(ctx context.Context, now time.Time) (*Status, error) {
	current := 0
	if c.Target != nil {
		n, err := c.Target.Replicas(ctx)
		if err != nil {
			c.countError("scale_read")
			return nil, c.readFailed(fmt.Errorf("read the target's replicas: %w", err))
		}
		current = n
	} else if st := c.Last(); st != nil {
		current = st.Desired
	} else {
		current = c.Policy.P.Min
	}
	g, err := c.Group(ctx)
	if err != nil {
		c.countError("kafka")
		return nil, c.readFailed(fmt.Errorf("read the consumer group: %w", err))
	}
	c.mu.Lock()
	c.read = true
	c.mu.Unlock()
	consumed := c.scrape(ctx)
	o, ok := c.Estimator.Observe(Sample{At: now, Produced: g.Produced, Lag: g.Lag, Consumed: consumed, Replicas: current})
	if !ok {
		return nil, nil
	}
	d := c.Policy.Decide(o)
	if c.NoScaleDown && d.Replicas < current {
		d.Replicas, d.Reason = current, "hold: no scale-down"
	}
	throughput := o.Throughput
	if throughput <= 0 {
		throughput = c.Policy.P.ReplicaThroughput
	}
	st := &Status{At: now, Desired: d.Replicas, Recommended: d.Recommended, Current: current, Reason: d.Reason,
		Lag: o.Lag, Rate: o.Rate, Trend: o.Trend, Throughput: throughput, DryRun: c.DryRun}
	if c.m != nil {
		c.m.desired.Set(float64(st.Desired))
		c.m.recommended.Set(float64(st.Recommended))
		c.m.current.Set(float64(current))
		c.m.lag.Set(o.Lag)
		c.m.rate.Set(o.Rate)
		c.m.trend.Set(o.Trend)
		c.m.throughput.Set(throughput)
		c.m.indexersScraped.Set(float64(len(consumed)))
		c.m.lastDecisionT.Set(float64(now.UnixNano()) / 1e9)
		c.m.decisions.WithLabelValues(d.Reason).Inc()
	}
	c.mu.Lock()
	c.last = st
	c.mu.Unlock()
	if c.DryRun {
		if c.Out != nil {
			fmt.Fprintf(c.Out, "%s lag=%.0f rate=%.0f/s trend=%+.0f/s² throughput=%.0f/s replicas %d -> %d (%s; recommended %d) [dry run]\n",
				now.UTC().Format(time.RFC3339), o.Lag, o.Rate, o.Trend, throughput, current, d.Replicas, d.Reason, d.Recommended)
		}
		return st, nil
	}
	if d.Replicas != current {
		if err := c.Target.SetReplicas(ctx, d.Replicas); err != nil {
			c.countError("scale_write")
			return st, fmt.Errorf("set the target's replicas to %d: %w", d.Replicas, err)
		}
		if c.Log != nil {
			c.Log.Info("scaled", "from", current, "to", d.Replicas, "reason", d.Reason, "lag", o.Lag, "rate", o.Rate, "trend", o.Trend, "replica_throughput", throughput)
		}
	}
	return st, nil
}

// Last is the last decision, nil before the first.
func (c *Controller) Last() *Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

// readFailed keeps err as the reason the controller is not ready, until
// a step reads the group.
func (c *Controller) readFailed(err error) error {
	c.mu.Lock()
	c.readErr = err
	c.mu.Unlock()
	return err
}

// Ready is nil once a step has read the consumer group (and the target's
// replicas, when it scales one): from then on the controller has what it
// decides on, a decision follows at the next interval, and a later
// failure is a failed step (logged, counted in
// sluice_autoscale_errors_total), not unreadiness. Before, it says why.
func (c *Controller) Ready() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.read:
		return nil
	case c.readErr != nil:
		return c.readErr
	}
	return errors.New("no step has run yet")
}

// ServeReady answers /readyz: 200 once Ready, else 503 with the reason.
func (c *Controller) ServeReady(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := c.Ready(); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "not ready: %v\n", err)
		return
	}
	fmt.Fprintln(w, "ready")
}

// Run steps every interval until ctx ends; a failed step is logged and
// the next one tries again.
func (c *Controller) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := c.Step(ctx, time.Now()); err != nil && ctx.Err() == nil && c.Log != nil {
			c.Log.Warn("autoscale step failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ServeHTTP answers the last decision as JSON (503 before the first): the
// external metric for KEDA's metrics-api scaler.
func (c *Controller) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	st := c.Last()
	w.Header().Set("Content-Type", "application/json")
	if st == nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, `{"error":"no decision yet"}`)
		return
	}
	_ = json.NewEncoder(w).Encode(st)
}

// scrape reads every indexer's consumed-record counter; an indexer that
// does not answer is left out of this sample (and counted).
func (c *Controller) scrape(ctx context.Context) map[string]float64 {
	out := map[string]float64{}
	if c.Indexers == nil {
		return out
	}
	urls, err := c.Indexers(ctx)
	if err != nil {
		c.countError("indexer_metrics")
		if c.Log != nil {
			c.Log.Warn("cannot list the indexers", "err", err)
		}
		return out
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, u := range urls {
		wg.Go(func() {
			v, err := ScrapeConsumed(ctx, c.HTTP, u)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				c.countError("indexer_metrics")
				return
			}
			out[u] = v
		})
	}
	wg.Wait()
	return out
}
