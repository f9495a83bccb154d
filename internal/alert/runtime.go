package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/durable"
)

// Runtime rules are rules made through the API (the UI's "Create alert")
// rather than written in the configuration. They are kept, every tenant's
// in one file, data_dir/alerts/rules.json, written durably before the
// API answers, and run by the same loops as configured rules.

const rulesFile = "rules.json"

// Limits of runtime rules.
const (
	maxRuntimeRules = 1000 // per tenant
	maxRuleName     = 200
	maxRuleQuery    = 64 << 10
	minRuleEvery    = time.Second
)

// ErrRuleExists is returned when a tenant already has a rule or flow of
// the name asked for.
var ErrRuleExists = errors.New("a rule or flow of that name exists")

// errSaveRules wraps a failure to write the rules file: the server's
// fault, not the request's.
var errSaveRules = errors.New("save rules")

// RuleSpec is a rule as the API takes it: durations as text ("5m").
type RuleSpec struct {
	Name        string            `json:"name"`
	Query       string            `json:"query"`
	Every       string            `json:"every"`
	Window      string            `json:"window"`
	Condition   string            `json:"condition"`
	For         string            `json:"for"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	Notify      []string          `json:"notify"`
}

// storedRule is one entry of the rules file.
type storedRule struct {
	Name        string            `json:"name"`
	Tenant      string            `json:"tenant"`
	Query       string            `json:"query"`
	Every       time.Duration     `json:"every_ns"`
	Window      time.Duration     `json:"window_ns"`
	Condition   string            `json:"condition"`
	For         time.Duration     `json:"for_ns"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Notify      []string          `json:"notify,omitempty"`
	Created     time.Time         `json:"created"`
}

func (s storedRule) config() config.RuleConfig {
	return config.RuleConfig{Name: s.Name, Tenant: s.Tenant, Query: s.Query, Every: config.Duration(s.Every),
		Window: config.Duration(s.Window), Condition: s.Condition, For: config.Duration(s.For),
		Labels: s.Labels, Annotations: s.Annotations, Notify: s.Notify}
}

// spec checks a RuleSpec and turns it into a stored rule of tenant and
// the rule compiled from it.
func (m *Manager) spec(tenant string, in RuleSpec) (storedRule, *rule, error) {
	s := storedRule{Name: strings.TrimSpace(in.Name), Tenant: tenant, Query: in.Query, Condition: in.Condition,
		Labels: in.Labels, Annotations: in.Annotations, Notify: in.Notify, Created: m.now().UTC()}
	switch {
	case s.Name == "" || len(s.Name) > maxRuleName || strings.IndexFunc(s.Name, unicode.IsControl) >= 0 || strings.Contains(s.Name, "/"):
		return s, nil, fmt.Errorf("name must have 1 to %d bytes, no control characters and no /", maxRuleName)
	case strings.TrimSpace(s.Query) == "" || len(s.Query) > maxRuleQuery:
		return s, nil, fmt.Errorf("query must have 1 to %d bytes", maxRuleQuery)
	}
	dur := func(name, v, def string) (time.Duration, error) {
		if strings.TrimSpace(v) == "" {
			v = def
		}
		d, err := config.ParseDuration(v)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", name, err)
		}
		return d, nil
	}
	var err error
	if s.Every, err = dur("every", in.Every, "1m"); err != nil {
		return s, nil, err
	}
	if s.Window, err = dur("window", in.Window, s.Every.String()); err != nil {
		return s, nil, err
	}
	if s.For, err = dur("for", in.For, "0s"); err != nil {
		return s, nil, err
	}
	if s.Every < minRuleEvery || s.Window <= 0 || s.For < 0 {
		return s, nil, fmt.Errorf("every must be at least %s, window positive, for not negative", minRuleEvery)
	}
	for k := range s.Labels {
		if k == "" || k == "alertname" || k == "tenant" {
			return s, nil, fmt.Errorf("label %q: a label needs a name, and alertname and tenant are set by Sluice", k)
		}
	}
	for _, n := range s.Notify {
		if _, ok := m.notifiers[n]; !ok {
			return s, nil, fmt.Errorf("notify: no notifier named %q (alerts.notifiers in the configuration)", n)
		}
	}
	// Compiling checks the query (a stats pipe) and the condition.
	r, err := compileRule(s.config(), m.opts.Parse)
	if err != nil {
		return s, nil, err
	}
	r.runtime = true
	return s, r, nil
}

// loadRuntimeRules reads the rules file; a rule that no longer compiles
// (a parser bound lowered since) is logged and kept in the file, not run.
func (m *Manager) loadRuntimeRules() error {
	b, err := os.ReadFile(filepath.Join(m.opts.Dir, rulesFile))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read runtime rules: %w", err)
	}
	if err := json.Unmarshal(b, &m.runtime); err != nil {
		return fmt.Errorf("runtime rules %s: %w", filepath.Join(m.opts.Dir, rulesFile), err)
	}
	for _, s := range m.runtime {
		r, err := compileRule(s.config(), m.opts.Parse)
		if err != nil {
			m.log.Error("a rule made through the API does not compile; it does not run", "rule", s.Name, "tenant", s.Tenant, "err", err)
			continue
		}
		r.runtime = true
		m.rules = append(m.rules, r)
	}
	return nil
}

// writeRuntimeRules replaces the rules file with rules; the caller holds
// m.rulesMu.
func (m *Manager) writeRuntimeRules(rules []storedRule) error {
	b, err := json.Marshal(rules)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(m.opts.Dir, 0o755); err != nil {
		return fmt.Errorf("%w: %w", errSaveRules, err)
	}
	if err := durable.WriteFile(filepath.Join(m.opts.Dir, rulesFile), b, 0o600); err != nil {
		return fmt.Errorf("%w: %w", errSaveRules, err)
	}
	return nil
}

// AddRule makes a rule of tenant from in, saves it and starts it.
func (m *Manager) AddRule(tenant string, in RuleSpec) (RuleInfo, error) {
	s, r, err := m.spec(tenant, in)
	if err != nil {
		return RuleInfo{}, err
	}
	// rulesMu orders writers of the file; m.mu is not held while it is
	// written (fsyncs), so evaluation and the API go on meanwhile.
	m.rulesMu.Lock()
	defer m.rulesMu.Unlock()
	m.mu.Lock()
	exists := slices.ContainsFunc(m.rules, func(o *rule) bool { return o.cfg.Tenant == tenant && o.cfg.Name == s.Name }) ||
		slices.ContainsFunc(m.flows, func(f *flow) bool { return f.cfg.Tenant == tenant && f.cfg.Name == s.Name }) ||
		slices.ContainsFunc(m.runtime, func(o storedRule) bool { return o.Tenant == tenant && o.Name == s.Name })
	n := 0
	for _, o := range m.runtime {
		if o.Tenant == tenant {
			n++
		}
	}
	next := append(slices.Clone(m.runtime), s)
	m.mu.Unlock()
	switch {
	case exists:
		return RuleInfo{}, fmt.Errorf("%w: %s", ErrRuleExists, s.Name)
	case n >= maxRuntimeRules:
		return RuleInfo{}, fmt.Errorf("%d rules already: delete some first", maxRuntimeRules)
	}
	if err := m.writeRuntimeRules(next); err != nil {
		return RuleInfo{}, err
	}
	m.mu.Lock()
	m.runtime = next
	m.rules = append(m.rules, r)
	// A rule of the name deleted before: the new one sends its alerts.
	m.retired = slices.DeleteFunc(m.retired, func(o source) bool { return o.tenant == tenant && o.name == s.Name })
	m.startRule(r)
	info := m.ruleInfo(r, nil)
	m.mu.Unlock()
	return info, nil
}

// DeleteRule removes tenant's runtime rule name: its loop stops, its
// pending alerts go and its firing ones resolve (their notifiers are told).
// It reports false when tenant has no runtime rule of that name.
func (m *Manager) DeleteRule(tenant, name string) (bool, error) {
	m.rulesMu.Lock()
	defer m.rulesMu.Unlock()
	m.mu.Lock()
	next := slices.DeleteFunc(slices.Clone(m.runtime), func(o storedRule) bool { return o.Tenant == tenant && o.Name == name })
	m.mu.Unlock()
	if len(next) == len(m.runtime) {
		return false, nil
	}
	if err := m.writeRuntimeRules(next); err != nil {
		return false, err
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.runtime = next
	i := slices.IndexFunc(m.rules, func(o *rule) bool { return o.runtime && o.cfg.Tenant == tenant && o.cfg.Name == name })
	if i < 0 {
		return true, nil // it did not compile, so never ran
	}
	r := m.rules[i]
	m.rules = slices.Delete(m.rules, i, i+1)
	r.deleted = true
	if r.stop != nil {
		r.stop()
	}
	delete(m.st.Rules, ruleKey(tenant, name))
	for _, a := range m.st.Alerts {
		if a.Kind == "rule" && a.Source == name && a.Tenant == tenant && m.endRuleAlert(a, now) {
			a.Annotations["deleted"] = "the rule was deleted"
		}
	}
	// Its source stays known to dispatch until its resolved alerts are
	// sent.
	m.retired = append(m.retired, source{r.cfg.Name, r.cfg.Tenant, r.cfg.Notify})
	m.changed()
	return true, nil
}

// startRule runs r's loop when the manager runs; the caller holds m.mu.
func (m *Manager) startRule(r *rule) {
	if m.runCtx == nil {
		return // Run starts it
	}
	ctx, cancel := context.WithCancel(m.runCtx)
	r.stop = cancel
	m.loops.Add(1)
	go func() { defer m.loops.Done(); m.ruleLoop(ctx, r) }()
}

// ruleKey is the key of a rule's health in the state: rules of different
// tenants may share a name.
func ruleKey(tenant, name string) string {
	if tenant == "" {
		return name
	}
	return tenant + "\x00" + name
}
