package alert

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/query"
)

func TestRuntimeRuleSpec(t *testing.T) {
	m := newTestManager(t, config.AlertsConfig{Notifiers: []config.NotifierConfig{{Name: "ops", Type: "webhook", URL: "http://127.0.0.1:1"}}}, nil, &clock{t: time.Now()})
	ok := RuleSpec{Name: "r", Query: "* | stats count() as n", Condition: "n > 1"}
	for _, c := range []struct {
		name string
		edit func(*RuleSpec)
		want string // "" when valid
	}{
		{"defaults", func(*RuleSpec) {}, ""},
		{"all set", func(s *RuleSpec) {
			s.Every, s.Window, s.For, s.Labels, s.Notify = "30s", "1h", "2m", map[string]string{"team": "x"}, []string{"ops"}
		}, ""},
		{"no name", func(s *RuleSpec) { s.Name = " " }, "name"},
		{"slash", func(s *RuleSpec) { s.Name = "a/b" }, "name"},
		{"no stats", func(s *RuleSpec) { s.Query = "level:error" }, "stats pipe"},
		{"bad query", func(s *RuleSpec) { s.Query = "a:(" }, "query"},
		{"bad condition", func(s *RuleSpec) { s.Condition = "n >" }, "condition"},
		{"too often", func(s *RuleSpec) { s.Every = "100ms" }, "every"},
		{"bad duration", func(s *RuleSpec) { s.Window = "soon" }, "window"},
		{"negative for", func(s *RuleSpec) { s.For = "-1m" }, "for"},
		{"unknown notifier", func(s *RuleSpec) { s.Notify = []string{"pager"} }, "pager"},
		{"reserved label", func(s *RuleSpec) { s.Labels = map[string]string{"alertname": "x"} }, "alertname"},
	} {
		s := ok
		c.edit(&s)
		got, _, err := m.spec("acme", s)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: error %v, want one about %q", c.name, err, c.want)
		case c.want == "" && (got.Tenant != "acme" || got.Every < time.Second || got.Window < got.Every):
			t.Errorf("%s: %+v", c.name, got)
		}
	}
}

// A rule made through the API runs, fires to its notifier, survives a
// restart, is its tenant's only, and once deleted stops and resolves.
func TestRuntimeRuleLifecycle(t *testing.T) {
	url, got := hook(t)
	c := &clock{t: time.Now()}
	asked := make(chan string, 1000)
	run := func(_ context.Context, q *query.Query, opts query.Options, emit func(query.Row) error) (string, error) {
		if len(q.Pipes) == 0 {
			return "", nil // the flow's replay
		}
		asked <- opts.Tenant
		return "", emit(query.Row{Values: []query.Value{{Name: "n", Num: 5, IsNum: true}}})
	}
	cfg := config.AlertsConfig{Notifiers: []config.NotifierConfig{{Name: "ops", Type: "webhook", URL: url}},
		Flows: []config.FlowConfig{{Name: "taken", Start: "a", End: "b", Key: "k", Within: config.Duration(time.Minute)}}}
	m := newTestManager(t, cfg, run, c)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- m.Run(ctx) }()
	spec := RuleSpec{Name: "many", Query: "* | stats count() as n", Condition: "n > 2", Every: "1s", Notify: []string{"ops"}}
	info, err := m.AddRule("acme", spec)
	if err != nil || !info.Runtime || info.Every != "1s" || info.Window != "1s" {
		t.Fatalf("add: %+v %v", info, err)
	}
	if _, err := m.AddRule("acme", spec); !errors.Is(err, ErrRuleExists) {
		t.Fatalf("the same name again: %v", err)
	}
	if _, err := m.AddRule("", RuleSpec{Name: "taken", Query: spec.Query, Condition: "n > 1"}); !errors.Is(err, ErrRuleExists) {
		t.Fatalf("a flow's name: %v", err)
	}
	if tn := <-asked; tn != "acme" {
		t.Fatalf("the rule queried tenant %q", tn)
	}
	p := receive(t, m, got)
	if p.Status != "firing" || p.Alerts[0].Labels["alertname"] != "many" || p.Alerts[0].Labels["tenant"] != "acme" {
		t.Fatalf("firing: %+v", p)
	}
	if o := m.Overview(""); len(o.Rules) != 0 || len(o.Alerts) != 0 {
		t.Fatalf("another tenant sees %+v", o)
	}
	if o := m.Overview("acme"); len(o.Rules) != 1 || !o.Rules[0].Runtime || o.Rules[0].Firing != 1 {
		t.Fatalf("acme's overview: %+v", o.Rules)
	}

	// Kept in its file: a manager started over the directory runs it.
	m2, err := New(Options{Config: m.cfg, Dir: m.opts.Dir, Query: run, Registry: prometheus.NewRegistry(), Log: slog.New(slog.DiscardHandler), Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	if o := m2.Overview("acme"); len(o.Rules) != 1 || o.Rules[0].Name != "many" || o.Rules[0].Condition != "n > 2" {
		t.Fatalf("after a restart: %+v", o.Rules)
	}

	if ok, err := m.DeleteRule("", "many"); ok || err != nil {
		t.Fatalf("another tenant deleted it: %v %v", ok, err)
	}
	if ok, err := m.DeleteRule("acme", "many"); !ok || err != nil {
		t.Fatalf("delete: %v %v", ok, err)
	}
	c.mu.Lock()
	c.t = c.t.Add(time.Minute) // past group_interval
	c.mu.Unlock()
	p = receive(t, m, got)
	if p.Status != "resolved" || p.Alerts[0].Annotations["deleted"] == "" {
		t.Fatalf("resolved on delete: %+v", p)
	}
	if o := m.Overview("acme"); len(o.Rules) != 0 {
		t.Fatalf("rules after the delete: %+v", o.Rules)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	m3, err := New(Options{Config: m.cfg, Dir: m.opts.Dir, Query: run, Registry: prometheus.NewRegistry(), Log: slog.New(slog.DiscardHandler), Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	if o := m3.Overview("acme"); len(o.Rules) != 0 {
		t.Fatalf("a deleted rule came back: %+v", o.Rules)
	}
}

func TestRuntimeRuleRoutes(t *testing.T) {
	m := newTestManager(t, config.AlertsConfig{}, nil, &clock{t: time.Now()})
	mux := http.NewServeMux()
	for p, h := range m.Routes(func(r *http.Request) string { return r.Header.Get("X-Scope-OrgID") }) {
		mux.Handle(p, h)
	}
	do := func(method, path, body string) (int, map[string]any) {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("X-Scope-OrgID", "acme")
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		var out map[string]any
		_ = json.Unmarshal(w.Body.Bytes(), &out)
		return w.Code, out
	}
	body := `{"name":"big","query":"* | stats count() as n","condition":"n > 10","every":"1m","window":"5m"}`
	if code, out := do("POST", "/api/v1/rules", body); code != 200 || out["name"] != "big" || out["runtime"] != true {
		t.Fatalf("create: %d %v", code, out)
	}
	if code, _ := do("POST", "/api/v1/rules", body); code != http.StatusConflict {
		t.Fatalf("again: %d", code)
	}
	for _, bad := range []string{`{"name":"x"}`, `{"name":"x","query":"* | stats count() as n","condition":"n > 1","severity":"page"}`, `[`} {
		if code, out := do("POST", "/api/v1/rules", bad); code != http.StatusBadRequest || out["error"] == nil {
			t.Fatalf("%s: %d %v", bad, code, out)
		}
	}
	if code, out := do("GET", "/api/v1/rules", ""); code != 200 || len(out["rules"].([]any)) != 1 {
		t.Fatalf("list: %d %v", code, out)
	}
	if code, _ := do("DELETE", "/api/v1/rules/big", ""); code != 200 {
		t.Fatalf("delete: %d", code)
	}
	if code, _ := do("DELETE", "/api/v1/rules/big", ""); code != http.StatusNotFound {
		t.Fatalf("delete again: %d", code)
	}
}
