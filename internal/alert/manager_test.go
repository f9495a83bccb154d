package alert

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sluice-log/sluice/internal/alert/notify"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/query"
	"github.com/sluice-log/sluice/internal/record"
)

// hook is a test webhook receiver: what Sluice posts, decoded.
func hook(t *testing.T) (string, chan notify.WebhookPayload) {
	ch := make(chan notify.WebhookPayload, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p notify.WebhookPayload
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &p); err != nil {
			t.Errorf("webhook body %s: %v", b, err)
		}
		ch <- p
	}))
	t.Cleanup(srv.Close)
	return srv.URL, ch
}

// clock is the manager's clock in tests; the test moves it only while no
// notification is in flight (waitIdle).
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// receive takes the next notification, then waits until the manager has
// recorded its outcome.
func receive(t *testing.T, m *Manager, got chan notify.WebhookPayload) notify.WebhookPayload {
	t.Helper()
	p := <-got
	for {
		m.mu.Lock()
		busy := false
		for _, g := range m.st.Groups {
			busy = busy || g.sending
		}
		m.mu.Unlock()
		if !busy {
			return p
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func newTestManager(t *testing.T, cfg config.AlertsConfig, run QueryFunc, c *clock) *Manager {
	t.Helper()
	full := config.Default()
	full.Alerts.Notifiers, full.Alerts.Rules, full.Alerts.Flows = cfg.Notifiers, cfg.Rules, cfg.Flows
	full.Alerts.GroupWait = 0
	full.Alerts.Retries = 0
	if err := full.Validate(); err != nil {
		t.Fatal(err)
	}
	m, err := New(Options{Config: full.Alerts, Dir: t.TempDir(), Query: run, Registry: prometheus.NewRegistry(),
		Log: slog.New(slog.DiscardHandler), Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func labelsOf(p notify.WebhookPayload, name string) []string {
	var out []string
	for _, a := range p.Alerts {
		out = append(out, a.Status+":"+a.Labels[name])
	}
	sort.Strings(out)
	return out
}

func TestRuleLifecycle(t *testing.T) {
	url, got := hook(t)
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	rows := map[string]float64{}
	run := func(_ context.Context, q *query.Query, _ query.Options, emit func(query.Row) error) (string, error) {
		for svc, n := range rows {
			if err := emit(query.Row{Values: []query.Value{{Name: "service", Str: svc}, {Name: "n", Num: n, IsNum: true}}}); err != nil {
				return "", err
			}
		}
		return "", nil
	}
	m := newTestManager(t, config.AlertsConfig{
		Notifiers: []config.NotifierConfig{{Name: "ops", Type: "webhook", URL: url}},
		Rules: []config.RuleConfig{{Name: "errors", Query: `level:error | stats count() as n by service`, Condition: "n > 100",
			For: config.Duration(time.Minute), Labels: map[string]string{"severity": "page"}, Notify: []string{"ops"}}},
	}, run, c)
	r := m.rules[0]
	ctx := context.Background()
	step := func(d time.Duration) {
		c.mu.Lock()
		c.t = c.t.Add(d)
		c.mu.Unlock()
		found, _, err := r.eval(ctx, run, c.t, 1000)
		if err != nil {
			t.Fatal(err)
		}
		m.applyRule(r, found, c.t)
		m.dispatch(ctx)
	}
	rows["api"], rows["web"] = 150, 50
	step(0) // api pending
	if o := m.Overview(""); len(o.Alerts) != 1 || o.Alerts[0].State != StatePending {
		t.Fatalf("after the first evaluation: %+v", o.Alerts)
	}
	step(30 * time.Second)
	step(31 * time.Second) // api fires after 'for'
	p := receive(t, m, got)
	if p.Version != "4" || p.Status != "firing" || p.Receiver != "ops" || p.GroupLabels["alertname"] != "errors" ||
		len(p.Alerts) != 1 || p.Alerts[0].Labels["service"] != "api" || p.Alerts[0].Labels["severity"] != "page" ||
		p.Alerts[0].Fingerprint == "" || p.CommonLabels["alertname"] != "errors" {
		t.Fatalf("firing payload: %+v", p)
	}
	// A silence on web: web fires but is not sent; api resolves.
	if _, err := m.AddSilence("", Silence{Matchers: []Matcher{{Name: "service", Value: "web"}}, EndsAt: c.t.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	rows["api"], rows["web"] = 10, 500
	step(time.Minute)
	step(61 * time.Second)
	step(31 * time.Second) // group_interval (30s) since the last send
	p = receive(t, m, got)
	if l := labelsOf(p, "service"); len(l) != 1 || l[0] != "resolved:api" {
		t.Fatalf("resolve payload: %v", l)
	}
	m.dispatch(ctx) // forgets the resolved alert every notifier took
	o := m.Overview("")
	if len(o.Alerts) != 1 || o.Alerts[0].State != StateSilenced || o.Alerts[0].Labels["service"] != "web" {
		t.Fatalf("alerts after the resolve: %+v", o.Alerts)
	}
	if len(o.History) == 0 || o.Rules[0].Firing != 1 {
		t.Fatalf("overview: %+v", o)
	}
	// The state survives a restart.
	m.save(true)
	m2, err := New(Options{Config: m.cfg, Dir: m.opts.Dir, Query: run, Registry: prometheus.NewRegistry(), Log: m.log, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	if o2 := m2.Overview(""); len(o2.Alerts) != 1 || o2.Alerts[0].State != StateSilenced || len(o2.Silences) != 1 {
		t.Fatalf("after a restart: %+v", o2)
	}
	select {
	case p := <-got:
		t.Fatalf("unexpected notification %+v", p)
	default:
	}
}

func TestAbsenceRule(t *testing.T) {
	run := func(context.Context, *query.Query, query.Options, func(query.Row) error) (string, error) {
		return "", nil
	}
	c := &clock{t: time.Now()}
	m := newTestManager(t, config.AlertsConfig{Rules: []config.RuleConfig{{Name: "quiet", Query: `service:x | stats count() as n`, Condition: "n == 0"}}}, run, c)
	found, _, err := m.rules[0].eval(context.Background(), run, c.t, 10)
	if err != nil || len(found) != 1 || found[0].value != 0 {
		t.Fatalf("absence: %v %v", found, err)
	}
}

func TestNotifierFailureIsShown(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	c := &clock{t: time.Now()}
	run := func(_ context.Context, _ *query.Query, _ query.Options, emit func(query.Row) error) (string, error) {
		return "", emit(query.Row{Values: []query.Value{{Name: "n", Num: 1, IsNum: true}}})
	}
	m := newTestManager(t, config.AlertsConfig{
		Notifiers: []config.NotifierConfig{{Name: "ops", Type: "webhook", URL: srv.URL}},
		Rules:     []config.RuleConfig{{Name: "r", Query: `* | stats count() as n`, Condition: "n > 0", Notify: []string{"ops"}}},
	}, run, c)
	found, _, _ := m.rules[0].eval(context.Background(), run, c.t, 10)
	m.applyRule(m.rules[0], found, c.t)
	m.dispatch(context.Background())
	for {
		m.mu.Lock()
		ns := *m.st.Notifiers["ops"]
		m.mu.Unlock()
		if ns.Failed > 0 {
			if ns.LastError == "" || ns.Sent != 0 {
				t.Fatalf("notifier status %+v", ns)
			}
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if o := m.Overview(""); o.Notifiers[0].LastError == "" || o.Alerts[0].Notified["ops"] != "" {
		t.Fatalf("overview after the failure: %+v", o)
	}
}

// advanceFlow moves the clock by d, then runs what the flow loop and Run
// do at a tick: f's deadlines, its alerts, dispatch.
func advanceFlow(m *Manager, f *flow, c *clock, d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
	f.sweep(c.t)
	m.applyFlow(f, c.t)
	m.dispatch(context.Background())
}

func flowRec(t time.Time, event, id string) record.Record {
	return record.Record{Time: t.UnixNano(), Fields: []record.Field{{Name: "event", Value: event}, {Name: "order_id", Value: id}}}
}

func TestFlowTracker(t *testing.T) {
	url, got := hook(t)
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	m := newTestManager(t, config.AlertsConfig{
		Notifiers: []config.NotifierConfig{{Name: "ops", Type: "webhook", URL: url}},
		Flows: []config.FlowConfig{{Name: "order-paid", Start: "event:order_created", End: "event:order_paid", Key: "order_id",
			Within: config.Duration(time.Minute), Notify: []string{"ops"}, MaxOpenKeys: 3}},
	}, nil, c)
	f := m.flows[0]
	t0 := c.t
	m.Observe([]record.Record{
		flowRec(t0, "order_paid", "a"), // end before its start: still completes
		flowRec(t0, "order_created", "a"),
		flowRec(t0, "order_created", "b"),
		flowRec(t0.Add(10*time.Second), "order_paid", "b"),
		flowRec(t0, "order_created", "c"),
		flowRec(t0, "order_created", "d"), // fourth key: over max_open_keys
		flowRec(t0, "order_created", "b"), // replayed start: ignored
	})
	advanceFlow(m, f, c, 2*time.Minute)
	p := receive(t, m, got)
	if l := labelsOf(p, "order_id"); len(l) != 1 || l[0] != "firing:c" {
		t.Fatalf("fired: %v", l)
	}
	st := f.status()
	if st.Completed != 2 || st.Dropped != 1 || st.Violating != 1 || st.Latency["max"] != 10 {
		t.Fatalf("status %+v", st)
	}
	if len(st.OpenKeys) != 0 || len(st.Violations) != 1 || st.Violations[0].Key != "c" || !st.Violations[0].End.IsZero() {
		t.Fatalf("open keys %+v, violations %+v", st.OpenKeys, st.Violations)
	}
	if h := st.Histogram; len(h) != 11 || h[0].Count != 1 || h[1].Count != 1 || h[1].LE != 12 {
		t.Fatalf("histogram %+v", h)
	}
	// The late end resolves it.
	m.Observe([]record.Record{flowRec(c.t, "order_paid", "c")})
	advanceFlow(m, f, c, time.Minute)
	p = receive(t, m, got)
	if l := labelsOf(p, "order_id"); len(l) != 1 || l[0] != "resolved:c" {
		t.Fatalf("resolved: %v", l)
	}
	if v := f.status().Violations; len(v) != 1 || v[0].End.IsZero() {
		t.Fatalf("a late end is a violation with its end: %+v", v)
	}
}

func TestSilenceValidate(t *testing.T) {
	now := time.Now()
	f := false
	s := Silence{Matchers: []Matcher{{Name: "svc", Value: "a.*", IsRegex: true}, {Name: "env", Value: "dev", IsEqual: &f}}, EndsAt: now.Add(time.Hour)}
	if err := s.validate(now); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		labels map[string]string
		want   bool
	}{
		{map[string]string{"svc": "api", "env": "prod"}, true},
		{map[string]string{"svc": "api", "env": "dev"}, false},
		{map[string]string{"svc": "web", "env": "prod"}, false},
	} {
		if got := s.Matches("", tt.labels); got != tt.want {
			t.Errorf("Matches(%v) = %v", tt.labels, got)
		}
	}
	for _, bad := range []Silence{
		{EndsAt: now.Add(time.Hour)},
		{Matchers: []Matcher{{Name: "a", Value: "(", IsRegex: true}}, EndsAt: now.Add(time.Hour)},
		{Matchers: []Matcher{{Name: "a", Value: "x"}}, EndsAt: now.Add(-time.Hour)},
	} {
		if err := bad.validate(now); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}

// TestFlowAlertBounds: past max_alerts a key that runs out of time fires
// nothing (counted), and a fired key whose end never comes is given up
// keepFired later: its alert resolves, so alerts do not pile up.
func TestFlowAlertBounds(t *testing.T) {
	url, got := hook(t)
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	m := newTestManager(t, config.AlertsConfig{
		Notifiers: []config.NotifierConfig{{Name: "ops", Type: "webhook", URL: url}},
		Flows: []config.FlowConfig{{Name: "order-paid", Start: "event:order_created", End: "event:order_paid", Key: "order_id",
			Within: config.Duration(time.Minute), Notify: []string{"ops"}, MaxAlerts: 2}},
	}, nil, c)
	f := m.flows[0]
	t0 := c.t
	m.Observe([]record.Record{flowRec(t0, "order_created", "a"), flowRec(t0, "order_created", "b"), flowRec(t0, "order_created", "c")})
	advance := func(d time.Duration) { advanceFlow(m, f, c, d) }
	advance(2 * time.Minute)
	if l := labelsOf(receive(t, m, got), "order_id"); len(l) != 2 {
		t.Fatalf("fired: %v, want 2 (max_alerts)", l)
	}
	if v := testutil.ToFloat64(f.mAlertsDropped); v != 1 {
		t.Fatalf("sluice_flow_alerts_dropped_total = %v, want 1", v)
	}
	advance(keepFired)
	p := receive(t, m, got)
	if l := labelsOf(p, "order_id"); len(l) != 2 || !strings.HasPrefix(l[0], "resolved:") || p.Alerts[0].Annotations["expired"] == "" {
		t.Fatalf("after keepFired: %v %+v", l, p.Alerts)
	}
	if n := f.status().Tracked; n != 0 {
		t.Fatalf("%d keys still tracked", n)
	}
}

func TestLatencyHistogram(t *testing.T) {
	for _, c := range []struct {
		lat  []float64
		want map[int]int // bucket → count; the others 0
	}{
		{nil, nil},
		{[]float64{0}, map[int]int{0: 1}},
		{[]float64{1, 10}, map[int]int{0: 1, 9: 1}},         // within: the last bucket in time
		{[]float64{10.5, 100}, map[int]int{10: 2}},          // late
		{[]float64{1.01, 4.99, 5}, map[int]int{1: 1, 4: 2}}, // (1, 2] and (4, 5]
	} {
		h := latencyHistogram(c.lat, 10)
		if len(h) != 11 || h[0].LE != 1 || h[9].LE != 10 {
			t.Fatalf("bounds %+v", h)
		}
		for i, b := range h {
			if b.Count != c.want[i] {
				t.Errorf("%v: bucket %d has %d, want %d", c.lat, i, b.Count, c.want[i])
			}
		}
	}
}

// TestRepeatInterval: a group still firing, with nothing changed, is sent
// again repeat_interval after its last send, and not a second before.
func TestRepeatInterval(t *testing.T) {
	url, got := hook(t)
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	run := func(_ context.Context, _ *query.Query, _ query.Options, emit func(query.Row) error) (string, error) {
		return "", emit(query.Row{Values: []query.Value{{Name: "service", Str: "api"}, {Name: "n", Num: 500, IsNum: true}}})
	}
	m := newTestManager(t, config.AlertsConfig{
		Notifiers: []config.NotifierConfig{{Name: "ops", Type: "webhook", URL: url}},
		Rules: []config.RuleConfig{{Name: "errors", Query: `level:error | stats count() as n by service`, Condition: "n > 100",
			Notify: []string{"ops"}}},
	}, run, c)
	const repeat = time.Hour
	m.cfg.RepeatInterval = config.Duration(repeat)
	r := m.rules[0]
	ctx := context.Background()
	// step moves the clock to at, evaluates the rule (still firing) and
	// dispatches.
	step := func(at time.Time) {
		c.mu.Lock()
		c.t = at
		c.mu.Unlock()
		found, _, err := r.eval(ctx, run, at, 1000)
		if err != nil {
			t.Fatal(err)
		}
		m.applyRule(r, found, at)
		m.dispatch(ctx)
	}
	// sent reports whether the last dispatch started a notification (in
	// flight, or done: its outcome is stamped with the unmoved clock).
	sent := func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		gs := m.st.Groups[groupKey("ops", m.sources()[0])]
		return gs.sending || gs.LastAttempt.Equal(c.now())
	}
	none := func(when string) {
		t.Helper()
		if sent() {
			t.Fatalf("%s: a notification was sent", when)
		}
	}
	firing := func(when string) {
		t.Helper()
		if !sent() {
			t.Fatalf("%s: no notification was sent", when)
		}
		p := receive(t, m, got)
		if l := labelsOf(p, "service"); len(l) != 1 || l[0] != "firing:api" {
			t.Fatalf("%s: payload %v", when, l)
		}
	}
	t0 := c.t
	step(t0) // fires (no 'for'), sent at once (group_wait 0)
	firing("first send")
	// Evaluated every 30 s up to a second before repeat_interval: nothing
	// changed, nothing is sent (group_interval alone does not resend).
	for at := t0.Add(30 * time.Second); at.Before(t0.Add(repeat)); at = at.Add(30 * time.Second) {
		step(at)
		none(at.Sub(t0).String() + " after the first send")
	}
	step(t0.Add(repeat - time.Second))
	none("a second before repeat_interval")
	step(t0.Add(repeat))
	firing("at repeat_interval")
	// And again one repeat_interval after the repeat, not before.
	step(t0.Add(2*repeat - time.Second))
	none("a second before the second repeat")
	step(t0.Add(2 * repeat))
	firing("at the second repeat")
	select {
	case p := <-got:
		t.Fatalf("unexpected notification %+v", p)
	default:
	}
}

// TestFlowSteps: a flow of three steps completes a key only once every
// step came, in any order of arrival; a key that misses one fires, naming
// the first step missing; the store's replay (observe) agrees with
// ingest (Observe).
func TestFlowSteps(t *testing.T) {
	url, got := hook(t)
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	m := newTestManager(t, config.AlertsConfig{
		Notifiers: []config.NotifierConfig{{Name: "ops", Type: "webhook", URL: url}},
		Flows: []config.FlowConfig{{Name: "order", Steps: []string{"event:created", "event:paid", "event:shipped"}, Key: "order_id",
			Within: config.Duration(time.Minute), Notify: []string{"ops"}}},
	}, nil, c)
	f := m.flows[0]
	t0 := c.t
	recs := []record.Record{
		flowRec(t0, "created", "a"), flowRec(t0.Add(time.Second), "paid", "a"), flowRec(t0.Add(3*time.Second), "shipped", "a"),
		flowRec(t0.Add(2*time.Second), "shipped", "b"), flowRec(t0, "created", "b"), flowRec(t0.Add(time.Second), "paid", "b"), // shipped arrives first
		flowRec(t0, "created", "c"), flowRec(t0.Add(time.Second), "paid", "c"), // never shipped
		flowRec(t0, "created", "d"), flowRec(t0.Add(time.Second), "shipped", "d"), // never paid
		flowRec(t0, "created", "e"),                                                             // nothing else
		flowRec(t0.Add(time.Second), "paid", "f"), flowRec(t0.Add(time.Second), "shipped", "f"), // no start: never fires
	}
	m.Observe(recs)
	if st := f.status(); st.Completed != 2 || st.Open != 3 || len(st.Steps) != 3 || st.Start != "event:created" || st.End != "event:shipped" {
		t.Fatalf("status after the records %+v", st)
	}
	if l := f.status().Latency["max"]; l != 3 {
		t.Fatalf("latest latency %v, want 3 (first to last step)", l)
	}
	advanceFlow(m, f, c, 2*time.Minute)
	p := receive(t, m, got)
	if l := labelsOf(p, "order_id"); !slices.Equal(l, []string{"firing:c", "firing:d", "firing:e"}) {
		t.Fatalf("fired %v, want c, d and e", l)
	}
	missing := map[string]string{}
	for _, a := range p.Alerts {
		missing[a.Labels["order_id"]] = a.Annotations["missing_step"]
	}
	if want := map[string]string{"c": "3", "d": "2", "e": "2"}; !maps.Equal(missing, want) {
		t.Fatalf("missing steps %v, want %v", missing, want)
	}

	// The same records one flow at a time, as a replay reads them: the
	// same keys stay open.
	m2 := newTestManager(t, m.cfg, nil, c)
	for i := range recs {
		m2.flows[0].observe(&recs[i])
	}
	if st := m2.flows[0].status(); st.Completed != 2 || st.Open != 3 {
		t.Fatalf("replayed: %+v", st)
	}
}
