package alert

import (
	"container/heap"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/query"
	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/store"
)

// flow tracks one alerts.flows entry's keys. On the ingest path the
// Manager matches every flow's filters at once (query.FilterSet) and gives
// a flow only the records that match its start or end (take); a replay
// from the store matches one flow at a time (observe).
type flow struct {
	cfg config.FlowConfig
	// steps are the flow's filters in order: its start and end, or its
	// steps; stepNodes their syntax, for the Manager's FilterSet. all has
	// a bit set per step.
	steps     []store.Filter
	stepNodes []query.Node
	all       uint64
	// fetch is the query that reads the flow's records from the store:
	// (start) OR (end).
	fetch *query.Query

	mu        sync.Mutex
	keys      map[string]*flowKey
	deadlines deadlineHeap
	fired     []firedKey // deadlines passed since the last drain
	resolved  []firedKey // fired keys whose end came since
	latencies [1024]float64
	latN      int // latencies written, the ring's next slot is latN % len
	completed int64
	dropped   int64

	mDropped, mStarted, mCompleted, mViolations, mAlertsDropped prometheus.Counter
	mLatency                                                    prometheus.Observer
}

type flowKey struct {
	start  int64  // the start's record time; 0: not seen
	end    int64  // when every step was seen: the latest of their times; 0: not yet
	latest int64  // the latest record time of the steps seen
	seen   uint64 // a bit per step seen
	fired  bool
}

type firedKey struct {
	key   string
	start int64
	end   int64 // 0 for a key given up keepFired after it fired
	// missing is the first step not seen when it fired.
	missing int
}

// keepFired is how long a fired key stays tracked for its late end to
// resolve it.
const keepFired = 24 * time.Hour

// maxSteps is the most steps a flow may have (a bit each in flowKey.seen).
const maxSteps = 64

func newFlow(cfg config.FlowConfig, parse func(string) (*query.Query, error), m *flowMetrics) (*flow, error) {
	texts := cfg.StepFilters()
	if len(texts) > maxSteps {
		return nil, fmt.Errorf("flow %s: %d steps, at most %d", cfg.Name, len(texts), maxSteps)
	}
	f := &flow{cfg: cfg, keys: map[string]*flowKey{}}
	var fetch []string
	for i, text := range texts {
		q, err := parse(text)
		if err != nil {
			return nil, fmt.Errorf("flow %s: %s: %w", cfg.Name, stepName(cfg, i), err)
		}
		if len(q.Pipes) > 0 {
			return nil, fmt.Errorf("flow %s: %s: a filter, without pipes", cfg.Name, stepName(cfg, i))
		}
		f.steps = append(f.steps, q.Compile())
		f.stepNodes = append(f.stepNodes, q.Filter)
		f.all |= 1 << i
		fetch = append(fetch, "("+q.Filter.String()+")")
	}
	var err error
	if f.fetch, err = parse(strings.Join(fetch, " OR ")); err != nil {
		return nil, fmt.Errorf("flow %s: %w", cfg.Name, err)
	}
	l := prometheus.Labels{"flow": cfg.Name}
	f.mDropped = m.dropped.With(l)
	f.mStarted = m.started.With(l)
	f.mCompleted = m.completed.With(l)
	f.mViolations = m.violations.With(l)
	f.mAlertsDropped = m.alertsDropped.With(l)
	f.mLatency = m.latency.With(l)
	return f, nil
}

// stepName names step i of a flow's configuration in messages.
func stepName(cfg config.FlowConfig, i int) string {
	switch {
	case len(cfg.Steps) > 0:
		return fmt.Sprintf("steps[%d]", i)
	case i == 0:
		return "start"
	}
	return "end"
}

// observe takes one record of any tenant.
func (f *flow) observe(r *record.Record) {
	if r.Tenant != f.cfg.Tenant {
		return
	}
	for i, s := range f.steps {
		if s.Match(r) {
			f.take(r, i)
			return
		}
	}
}

// take takes a record of the flow's tenant that matches its step (0: the
// start) and no earlier one.
func (f *flow) take(r *record.Record, step int) {
	k, ok := r.Get(f.cfg.Key)
	if !ok || k == "" {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.keys[k]
	if st == nil {
		if len(f.keys) >= f.cfg.MaxOpenKeys {
			f.dropped++
			f.mDropped.Inc()
			return
		}
		st = &flowKey{}
		k = strings.Clone(k)
		f.keys[k] = st
		// An entry is looked at again at its deadline: a start's, or for
		// an end seen first, the end's time plus within (then it is
		// forgotten).
		heap.Push(&f.deadlines, deadline{at: r.Time + int64(f.cfg.Within), key: k})
	}
	bit := uint64(1) << step
	if st.seen&bit != 0 {
		return // a second record of the step (or the same record replayed)
	}
	st.seen |= bit
	st.latest = max(st.latest, r.Time)
	if step == 0 {
		st.start = r.Time
		f.mStarted.Inc()
	}
	if st.seen == f.all {
		st.end = st.latest
		f.complete(k, st)
	}
}

// missing is the first step of st not seen.
func (f *flow) missing(st *flowKey) int {
	for i := range f.steps {
		if st.seen&(1<<i) == 0 {
			return i
		}
	}
	return len(f.steps)
}

// complete records a key whose steps (start and end) were all seen; the
// caller holds f.mu.
func (f *flow) complete(k string, st *flowKey) {
	lat := max(float64(st.end-st.start)/1e9, 0)
	f.mCompleted.Inc()
	f.mLatency.Observe(lat)
	f.completed++
	f.latencies[f.latN%len(f.latencies)] = lat
	f.latN++
	if st.fired {
		f.resolved = append(f.resolved, firedKey{key: k, start: st.start, end: st.end})
	}
}

// sweep handles every entry whose deadline is before now: a start without
// its end fires; the rest are forgotten.
func (f *flow) sweep(now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := now.UnixNano()
	for len(f.deadlines) > 0 && f.deadlines[0].at < n {
		d := heap.Pop(&f.deadlines).(deadline)
		st := f.keys[d.key]
		switch {
		case st == nil:
		case st.start != 0 && st.end == 0 && !st.fired:
			st.fired = true
			f.mViolations.Inc()
			f.fired = append(f.fired, firedKey{key: d.key, start: st.start, missing: f.missing(st)})
			heap.Push(&f.deadlines, deadline{at: d.at + int64(keepFired), key: d.key})
		case st.fired && st.end == 0:
			// Given up: its alert resolves, so that alerts of keys whose
			// end never comes do not pile up.
			f.resolved = append(f.resolved, firedKey{key: d.key, start: st.start})
			delete(f.keys, d.key)
		default:
			delete(f.keys, d.key)
		}
	}
}

// drain returns the keys fired and resolved since the last drain.
func (f *flow) drain() (fired, resolved []firedKey) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fired, resolved = f.fired, f.resolved
	f.fired, f.resolved = nil, nil
	return fired, resolved
}

// FlowStatus is what the flows page shows of a flow.
type FlowStatus struct {
	Name       string             `json:"name"`
	Tenant     string             `json:"tenant"`
	Start      string             `json:"start"`
	End        string             `json:"end"`
	Steps      []string           `json:"steps,omitempty"` // a flow of steps: every one; Start and End are the first and the last
	Key        string             `json:"key"`
	Within     string             `json:"within"`
	WithinS    float64            `json:"within_s"`
	Open       int                `json:"open"`      // started, end not seen, in time
	Violating  int                `json:"violating"` // fired, end not seen
	Tracked    int                `json:"tracked"`   // entries held (the bound's measure)
	MaxKeys    int                `json:"max_open_keys"`
	Completed  int64              `json:"completed"`
	Dropped    int64              `json:"dropped"`
	Latency    map[string]float64 `json:"latency_s"`         // p50, p90, p99, max of the last 1024 completions
	Histogram  []LatencyBucket    `json:"latency_histogram"` // the same completions, in tenths of within
	OpenKeys   []OpenKey          `json:"open_keys"`         // the oldest open ones in time, at most 100
	Violations []OpenKey          `json:"violations"`        // the newest keys that ran out of time and are still tracked, at most 100
	Checked    time.Time          `json:"checked,omitzero"`
}

// OpenKey is a key waiting for its end, or one that ran out of time.
type OpenKey struct {
	Key   string    `json:"key"`
	Start time.Time `json:"start"`
	Fired bool      `json:"fired"`
	// End is set on a violation whose end came late (its alert resolved).
	End time.Time `json:"end,omitzero"`
}

// LatencyBucket counts completions whose latency is at most LE seconds
// and more than the previous bucket's (the last bucket, LE 0, counts
// those over within: late ends).
type LatencyBucket struct {
	LE    float64 `json:"le"`
	Count int     `json:"count"`
}

// maxListed is how many open keys and violations a status lists.
const maxListed = 100

func (f *flow) status() FlowStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	within := time.Duration(f.cfg.Within)
	texts := f.cfg.StepFilters()
	s := FlowStatus{Name: f.cfg.Name, Tenant: f.cfg.Tenant, Start: texts[0], End: texts[len(texts)-1], Steps: f.cfg.Steps, Key: f.cfg.Key,
		Within: within.String(), WithinS: within.Seconds(), Tracked: len(f.keys), MaxKeys: f.cfg.MaxOpenKeys,
		Completed: f.completed, Dropped: f.dropped, Latency: map[string]float64{}, OpenKeys: []OpenKey{}, Violations: []OpenKey{}}
	for k, st := range f.keys {
		switch {
		case st.start == 0:
		case st.fired:
			if st.end == 0 {
				s.Violating++
			}
			v := OpenKey{Key: k, Start: time.Unix(0, st.start).UTC(), Fired: true}
			if st.end != 0 {
				v.End = time.Unix(0, st.end).UTC()
			}
			s.Violations = append(s.Violations, v)
		case st.end == 0:
			s.Open++
			s.OpenKeys = append(s.OpenKeys, OpenKey{Key: k, Start: time.Unix(0, st.start).UTC()})
		}
	}
	slices.SortFunc(s.OpenKeys, func(a, b OpenKey) int { return a.Start.Compare(b.Start) })
	s.OpenKeys = s.OpenKeys[:min(len(s.OpenKeys), maxListed)]
	slices.SortFunc(s.Violations, func(a, b OpenKey) int { return b.Start.Compare(a.Start) })
	s.Violations = s.Violations[:min(len(s.Violations), maxListed)]
	lat := slices.Clone(f.latencies[:min(f.latN, len(f.latencies))])
	if len(lat) > 0 {
		slices.Sort(lat)
		for name, q := range map[string]float64{"p50": 0.5, "p90": 0.9, "p99": 0.99, "max": 1} {
			s.Latency[name] = lat[min(len(lat)-1, int(q*float64(len(lat))))]
		}
	}
	s.Histogram = latencyHistogram(lat, within.Seconds())
	return s
}

// latencyHistogram counts the latencies in ten buckets of a tenth of
// within each, and an eleventh for those over within.
func latencyHistogram(lat []float64, within float64) []LatencyBucket {
	h := make([]LatencyBucket, 11)
	for i := range 10 {
		h[i].LE = within * float64(i+1) / 10
	}
	for _, l := range lat {
		i := 10
		if l <= within {
			i = min(int(math.Ceil(l/within*10))-1, 9)
			i = max(i, 0)
		}
		h[i].Count++
	}
	return h
}

// flowLabels are a fired key's alert labels.
func (f *flow) labels(key string) map[string]string {
	l := map[string]string{"alertname": f.cfg.Name, f.cfg.Key: key}
	if f.cfg.Tenant != "" {
		l["tenant"] = f.cfg.Tenant
	}
	maps.Copy(l, f.cfg.Labels)
	l[f.cfg.Key] = key
	return l
}

type deadline struct {
	at  int64
	key string
}

type deadlineHeap []deadline

func (h deadlineHeap) Len() int           { return len(h) }
func (h deadlineHeap) Less(i, j int) bool { return h[i].at < h[j].at }
func (h deadlineHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *deadlineHeap) Push(x any)        { *h = append(*h, x.(deadline)) }
func (h *deadlineHeap) Pop() any {
	old := *h
	d := old[len(old)-1]
	*h = old[:len(old)-1]
	return d
}

// flowMetrics are the flows' metrics, labelled by flow.
type flowMetrics struct {
	dropped, started, completed, violations, alertsDropped *prometheus.CounterVec
	latency                                                *prometheus.HistogramVec
}

func newFlowMetrics(reg prometheus.Registerer) *flowMetrics {
	m := &flowMetrics{
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_flow_keys_dropped_total",
			Help: "Starts of a flow not tracked because the flow held max_open_keys keys."}, []string{"flow"}),
		started: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_flow_started_total",
			Help: "Keys a flow saw start."}, []string{"flow"}),
		completed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_flow_completed_total",
			Help: "Keys a flow saw end after their start."}, []string{"flow"}),
		alertsDropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_flow_alerts_dropped_total",
			Help: "Keys of a flow that ran out of time but fired no alert, because max_alerts of its alerts were firing."}, []string{"flow"}),
		violations: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_flow_violations_total",
			Help: "Keys whose end did not come within the flow's window (each fired an alert)."}, []string{"flow"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "sluice_flow_latency_seconds",
			Help: "Time from a key's start to its end.", Buckets: prometheus.ExponentialBuckets(0.01, 4, 12)}, []string{"flow"}),
	}
	reg.MustRegister(m.dropped, m.started, m.completed, m.violations, m.alertsDropped, m.latency)
	return m
}
