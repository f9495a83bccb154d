package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/alert/notify"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/durable"
	"github.com/sluice-log/sluice/internal/query"
	"github.com/sluice-log/sluice/internal/record"
)

// Options configure a Manager.
type Options struct {
	Config config.AlertsConfig
	// Dir holds the state file; created if missing.
	Dir   string
	Query QueryFunc
	// Parse parses rule queries and flow filters under the server's
	// bounds.
	Parse func(string) (*query.Query, error)
	// Polled: flows read their records through Query (a querier, which
	// ingests nothing) instead of being given them by Observe.
	Polled bool
	// PageLimit is how many records one query of a flow's replay or poll
	// asks for (query.max_limit); a range holding more is split.
	PageLimit int
	MaxGroups int
	Registry  prometheus.Registerer
	Log       *slog.Logger
	// Now is the clock; nil: time.Now.
	Now func() time.Time
}

// Manager evaluates rules and flows and dispatches their alerts.
type Manager struct {
	opts  Options
	cfg   config.AlertsConfig
	log   *slog.Logger
	rules []*rule
	flows []*flow
	// flowSets match the flows' filters on the ingest path, one set per
	// tenant; matchers holds []*query.SetMatcher, one per set, for one
	// Observe call at a time.
	flowSets  []flowSet
	matchers  sync.Pool
	notifiers map[string]notify.Notifier
	now       func() time.Time

	mu sync.Mutex
	st *state
	// dirty: the state changed in what a restart must not lose (alerts,
	// their transitions, notifications, silences); written within
	// saveEvery. progress: only in what it may lose a little of (how far
	// flows were checked: a restart replays more; rule health and values:
	// the next evaluation sets them again); written within progressEvery.
	dirty, progress bool
	// recheck: something dispatch decides on changed since its last full
	// pass (an alert's state, a notification's outcome, a silence, a
	// rule); nextCheck is when the earliest timer it knows of is due.
	// Until either, dispatch has nothing to do and skips its pass over
	// every alert.
	recheck   bool
	nextCheck time.Time
	// runtime are the rules made through the API, as in their file;
	// retired are the sources of deleted ones whose alerts are still to
	// be sent resolved. runCtx is Run's context (nil when not running) and
	// loops its rule loops. All under mu; rulesMu orders writers of the
	// rules file.
	runtime []storedRule
	retired []source
	runCtx  context.Context
	loops   sync.WaitGroup
	rulesMu sync.Mutex

	sent, failed, retried *prometheus.CounterVec
	evalFailures          *prometheus.CounterVec
	evalDuration          *prometheus.HistogramVec
}

// New compiles the configuration and loads the state; Run starts the work.
func New(opts Options) (*Manager, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Parse == nil {
		opts.Parse = query.Parse
	}
	if opts.PageLimit <= 0 {
		opts.PageLimit = 10000
	}
	m := &Manager{opts: opts, cfg: opts.Config, log: opts.Log, now: opts.Now, notifiers: map[string]notify.Notifier{}}
	for _, nc := range opts.Config.Notifiers {
		n, err := notify.New(nc)
		if err != nil {
			return nil, err
		}
		m.notifiers[nc.Name] = n
	}
	for _, rc := range opts.Config.Rules {
		r, err := compileRule(rc, opts.Parse)
		if err != nil {
			return nil, err
		}
		m.rules = append(m.rules, r)
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if err := m.loadRuntimeRules(); err != nil {
		return nil, err
	}
	fm := newFlowMetrics(opts.Registry)
	for _, fc := range opts.Config.Flows {
		f, err := newFlow(fc, opts.Parse, fm)
		if err != nil {
			return nil, err
		}
		m.flows = append(m.flows, f)
	}
	m.flowSets = newFlowSets(m.flows)
	m.matchers.New = func() any {
		ms := make([]*query.SetMatcher, len(m.flowSets))
		for i, s := range m.flowSets {
			ms[i] = s.set.Matcher()
		}
		return &ms
	}
	st, err := loadState(opts.Dir)
	if err != nil {
		return nil, err
	}
	m.st = st
	m.sent = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_alert_notifications_total",
		Help: "Notifications delivered, by notifier."}, []string{"notifier"})
	m.failed = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_alert_notifications_failed_total",
		Help: "Notifications that failed every attempt (retried at the next group_interval), by notifier."}, []string{"notifier"})
	m.retried = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_alert_notification_attempts_failed_total",
		Help: "Attempts to deliver a notification that failed, by notifier."}, []string{"notifier"})
	m.evalFailures = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_alert_rule_evaluation_failures_total",
		Help: "Rule evaluations that failed, by rule."}, []string{"rule"})
	m.evalDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "sluice_alert_rule_evaluation_seconds",
		Help: "Time one rule evaluation took.", Buckets: prometheus.ExponentialBuckets(0.001, 4, 9)}, []string{"rule"})
	opts.Registry.MustRegister(m.sent, m.failed, m.retried, m.evalFailures, m.evalDuration,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sluice_alerts_firing", Help: "Alerts firing (silenced ones included)."},
			func() float64 { return float64(m.count(StateFiring)) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sluice_alerts_pending", Help: "Alerts pending (their condition holds, not yet for their 'for')."},
			func() float64 { return float64(m.count(StatePending)) }))
	for _, n := range opts.Config.Notifiers {
		if m.st.Notifiers[n.Name] == nil {
			m.st.Notifiers[n.Name] = &NotifierStatus{}
		}
		m.sent.WithLabelValues(n.Name)
		m.failed.WithLabelValues(n.Name)
	}
	return m, nil
}

// saveEvery is the least time between two writes of the state file;
// progressEvery the most between two writes for progress alone.
const (
	saveEvery     = 5 * time.Second
	progressEvery = 30 * time.Second
)

func (m *Manager) count(state string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, a := range m.st.Alerts {
		if a.State == state {
			n++
		}
	}
	return n
}

// HasFlows reports whether any flow is configured (the ingest path then
// calls Observe).
func (m *Manager) HasFlows() bool { return len(m.flows) > 0 }

// flowSet is the flows of one tenant and their filters: filter j is step
// steps[j].step of flow steps[j].flow.
type flowSet struct {
	tenant string
	flows  []*flow
	steps  []flowStep
	set    *query.FilterSet
}

type flowStep struct{ flow, step int }

func newFlowSets(flows []*flow) []flowSet {
	var sets []flowSet
	byTenant := map[string]int{}
	for _, f := range flows {
		i, ok := byTenant[f.cfg.Tenant]
		if !ok {
			i = len(sets)
			byTenant[f.cfg.Tenant] = i
			sets = append(sets, flowSet{tenant: f.cfg.Tenant})
		}
		sets[i].flows = append(sets[i].flows, f)
	}
	now := time.Now()
	for i := range sets {
		var nodes []query.Node
		for fi, f := range sets[i].flows {
			for si, n := range f.stepNodes {
				nodes = append(nodes, n)
				sets[i].steps = append(sets[i].steps, flowStep{fi, si})
			}
		}
		sets[i].set = query.NewFilterSet(nodes, now)
	}
	return sets
}

// Observe gives the flows a batch of records just made durable. It is
// called on the ingest path and must not block.
func (m *Manager) Observe(recs []record.Record) {
	if len(m.flowSets) == 0 {
		return
	}
	// All flows' filters at once, record by record: each record is
	// tokenised once for the words the filters are anchored on, so that a
	// flow's filters run only on records that can match them, and terms
	// the flows share run once (matching each flow's two filters on every
	// record cost +15% of the server's CPU under bench ingest, pprof).
	msp := m.matchers.Get().(*[]*query.SetMatcher)
	defer m.matchers.Put(msp)
	ms := *msp
	for i := range recs {
		r := &recs[i]
		for si := range m.flowSets {
			fs := &m.flowSets[si]
			if fs.tenant != r.Tenant {
				continue
			}
			matched := ms[si].Match(r)
			for _, j := range matched {
				// A record of several steps of a flow counts for the first
				// (a start and an end: the start).
				st := fs.steps[j]
				if st.step > 0 && slices.ContainsFunc(matched, func(o int) bool {
					return fs.steps[o].flow == st.flow && fs.steps[o].step < st.step
				}) {
					continue
				}
				fs.flows[st.flow].take(r, st.step)
			}
			break
		}
	}
}

// Run evaluates and dispatches until ctx ends, then saves the state.
func (m *Manager) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	m.mu.Lock()
	m.runCtx = ctx
	for _, r := range m.rules {
		m.startRule(r)
	}
	m.mu.Unlock()
	if len(m.flows) > 0 {
		wg.Add(1)
		go func() { defer wg.Done(); m.flowLoop(ctx) }()
	}
	tick := time.NewTicker(time.Second / 2)
	defer tick.Stop()
	var saved, written time.Time
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-tick.C:
		}
		m.dispatch(ctx)
		// The state is written at most every saveEvery: encoding thousands
		// of alerts twice a second cost more than the ingest it watches
		// (pprof, docs/benchmarks.md). A crash loses at most that much:
		// notifications sent since are sent again, flows replay more.
		// Progress alone (flows checked further, rule health: a new value
		// every half second, since every rule evaluates every 30 s) is
		// written every progressEvery, so that a settled state is not
		// encoded again and again.
		if now := time.Now(); now.Sub(saved) >= saveEvery {
			if m.save(now.Sub(written) >= progressEvery) {
				written = now
			}
			saved = now
		}
	}
	m.mu.Lock()
	m.runCtx = nil // rules added from now on do not start
	m.mu.Unlock()
	wg.Wait()
	m.loops.Wait()
	m.save(true)
	return nil
}

func (m *Manager) ruleLoop(ctx context.Context, r *rule) {
	every := time.Duration(r.cfg.Every)
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		start := m.now()
		ectx, cancel := context.WithTimeout(ctx, every)
		found, partial, err := r.eval(ectx, m.opts.Query, start, m.opts.MaxGroups)
		cancel()
		took := time.Since(start)
		m.evalDuration.WithLabelValues(r.cfg.Name).Observe(took.Seconds())
		if ctx.Err() != nil {
			return
		}
		m.mu.Lock()
		if r.deleted {
			m.mu.Unlock()
			return
		}
		key := ruleKey(r.cfg.Tenant, r.cfg.Name)
		rs := m.st.Rules[key]
		if rs == nil {
			rs = &RuleStatus{}
			m.st.Rules[key] = rs
		}
		rs.LastEval, rs.LastDuration, rs.LastError = start, took, ""
		switch {
		case err != nil:
			rs.LastError = err.Error()
		case partial != "":
			rs.LastError = "partial answer: " + partial
		}
		m.progress = true
		m.mu.Unlock()
		if err != nil {
			m.evalFailures.WithLabelValues(r.cfg.Name).Inc()
			m.log.Warn("alert rule evaluation failed", "rule", r.cfg.Name, "err", err)
		} else {
			m.applyRule(r, found, start)
		}
		t.Reset(max(every-time.Since(start), 0))
	}
}

// flowLoop replays each flow from the store, then checks deadlines every
// half second (and, when polled, reads each new slice of time first).
func (m *Manager) flowLoop(ctx context.Context) {
	lag := time.Duration(0)
	if m.opts.Polled {
		lag = time.Duration(m.cfg.FlowPollLag)
	}
	cursor := map[*flow]time.Time{}
	for _, f := range m.flows {
		m.mu.Lock()
		checked := m.st.FlowChecked[f.cfg.Name]
		m.mu.Unlock()
		now := m.now().Add(-lag)
		from := now.Add(-time.Duration(f.cfg.Within))
		if !checked.IsZero() && checked.Before(now) {
			from = checked.Add(-time.Duration(f.cfg.Within))
		}
		start := time.Now()
		n, err := m.fetch(ctx, f, from, now)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			m.log.Error("flow replay from the store failed; keys started before now are not checked", "flow", f.cfg.Name, "err", err)
		} else {
			m.log.Info("flow replayed from the store", "flow", f.cfg.Name, "records", n, "from", from, "duration", time.Since(start).Round(time.Millisecond))
		}
		cursor[f] = now
	}
	t := time.NewTicker(time.Second / 2)
	defer t.Stop()
	for {
		now := m.now().Add(-lag)
		for _, f := range m.flows {
			if m.opts.Polled && now.After(cursor[f]) {
				if _, err := m.fetch(ctx, f, cursor[f], now); err != nil {
					if ctx.Err() != nil {
						return
					}
					m.log.Warn("flow poll failed", "flow", f.cfg.Name, "err", err)
					continue
				}
				cursor[f] = now
			}
			f.sweep(now)
			m.applyFlow(f, now)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// fetch feeds f the records of its tenant matching start or end in
// [from, to), in pages of at most PageLimit records: a range that fills
// a page is split in two.
func (m *Manager) fetch(ctx context.Context, f *flow, from, to time.Time) (int, error) {
	if !to.After(from) {
		return 0, nil
	}
	var recs []*record.Record
	opts := query.Options{Tenant: f.cfg.Tenant, From: from.UnixNano(), To: to.UnixNano(), Now: to, Limit: m.opts.PageLimit}
	_, err := m.opts.Query(ctx, f.fetch, opts, func(r query.Row) error {
		if r.Record != nil {
			recs = append(recs, r.Record)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if len(recs) >= m.opts.PageLimit && to.Sub(from) > time.Millisecond {
		mid := from.Add(to.Sub(from) / 2)
		a, err := m.fetch(ctx, f, from, mid)
		if err != nil {
			return a, err
		}
		b, err := m.fetch(ctx, f, mid, to)
		return a + b, err
	}
	for _, r := range recs {
		f.observe(r)
	}
	return len(recs), nil
}

// applyFlow turns the keys f fired and resolved into alerts.
func (m *Manager) applyFlow(f *flow, now time.Time) {
	fired, resolved := f.drain()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.st.FlowChecked[f.cfg.Name] = now
	m.progress = true
	firing := 0
	if len(fired) > 0 {
		for _, a := range m.st.Alerts {
			if a.Source == f.cfg.Name && a.Tenant == f.cfg.Tenant && a.State == StateFiring {
				firing++
			}
		}
	}
	for _, k := range fired {
		labels := f.labels(k.key)
		fp := notify.Fingerprint(labels)
		if a := m.st.Alerts[fp]; a != nil && a.State == StateFiring {
			continue // fired before a restart
		}
		if firing >= f.cfg.MaxAlerts {
			f.mAlertsDropped.Inc()
			continue
		}
		firing++
		start := time.Unix(0, k.start).UTC()
		a := &Alert{Fingerprint: fp, Source: f.cfg.Name, Kind: "flow", Tenant: f.cfg.Tenant, Labels: labels,
			Annotations: map[string]string{
				"summary": fmt.Sprintf("%s: %s=%s started %s and did not end within %s", f.cfg.Name, f.cfg.Key, k.key, start.Format(time.RFC3339), time.Duration(f.cfg.Within)),
				"start":   start.Format(time.RFC3339Nano),
			},
			State: StateFiring, ActiveAt: start.Add(time.Duration(f.cfg.Within)), FiredAt: now, Notified: map[string]string{}}
		if len(f.cfg.Steps) > 0 {
			// Which step did not come: a flow of steps can stop anywhere.
			a.Annotations["summary"] = fmt.Sprintf("%s: %s=%s started %s and did not reach step %d (%s) within %s", f.cfg.Name, f.cfg.Key, k.key,
				start.Format(time.RFC3339), k.missing+1, f.cfg.Steps[k.missing], time.Duration(f.cfg.Within))
			a.Annotations["missing_step"] = strconv.Itoa(k.missing + 1)
		}
		if old := m.st.Alerts[fp]; old != nil {
			a.Notified = old.Notified
		}
		m.st.Alerts[fp] = a
		m.event(a, "inactive", StateFiring, now)
	}
	for _, k := range resolved {
		fp := notify.Fingerprint(f.labels(k.key))
		if a := m.st.Alerts[fp]; a != nil && a.State == StateFiring {
			a.State, a.ResolvedAt = StateResolved, now
			if k.end != 0 {
				a.Annotations["end"] = time.Unix(0, k.end).UTC().Format(time.RFC3339Nano)
			} else {
				a.Annotations["expired"] = fmt.Sprintf("no end %s after the alert fired; given up", keepFired)
			}
			m.event(a, StateFiring, StateResolved, now)
		}
	}
}

// event records a state change in the history and marks the state
// changed; the caller holds m.mu.
func (m *Manager) event(a *Alert, from, to string, now time.Time) {
	m.changed()
	if m.cfg.History == 0 {
		return
	}
	m.st.History = append(m.st.History, Event{Time: now, Source: a.Source, Tenant: a.Tenant, Fingerprint: a.Fingerprint,
		Labels: maps.Clone(a.Labels), From: from, To: to})
	if over := len(m.st.History) - m.cfg.History; over > 0 {
		m.st.History = append(m.st.History[:0], m.st.History[over:]...)
	}
}

// changed marks the state changed in what a restart must not lose and
// what dispatch decides on; the caller holds m.mu.
func (m *Manager) changed() {
	m.dirty = true
	m.recheck = true
}

// save writes the state when it changed in what a restart must not lose,
// or, with progress set, in anything; it reports whether it wrote.
func (m *Manager) save(progress bool) bool {
	m.mu.Lock()
	if !m.dirty && !(progress && m.progress) {
		m.mu.Unlock()
		return false
	}
	b, err := json.Marshal(m.st)
	m.dirty, m.progress = false, false
	m.mu.Unlock()
	if err == nil {
		err = os.MkdirAll(m.opts.Dir, 0o755) // here, not in New: a querier without alerts writes nothing
	}
	if err == nil {
		err = durable.WriteFile(filepath.Join(m.opts.Dir, stateFile), b, 0o600)
	}
	if err != nil {
		m.log.Error("saving the alert state failed", "err", err)
		m.mu.Lock()
		m.dirty = true
		m.mu.Unlock()
		return false
	}
	return true
}
