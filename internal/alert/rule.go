package alert

import (
	"context"
	"fmt"
	"maps"
	"math"
	"strconv"
	"time"

	"github.com/sluice-log/sluice/internal/alert/notify"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/query"
	"github.com/sluice-log/sluice/internal/record"
)

// QueryFunc runs a query through the server's engine. partial says what
// the answer lacks ("" when complete).
type QueryFunc func(ctx context.Context, q *query.Query, opts query.Options, emit func(query.Row) error) (partial string, err error)

// rule is a compiled alerts.rules entry.
type rule struct {
	cfg config.RuleConfig
	// runtime: made through the API (runtime.go), not configured.
	runtime bool
	// stop ends the rule's loop; deleted (under Manager.mu) tells a loop
	// that was evaluating when its rule was deleted to drop the result.
	stop    context.CancelFunc
	deleted bool
	q       *query.Query
	by      []string // the stats pipe's group fields
	column  string
	op      string
	value   float64
}

func compileRule(cfg config.RuleConfig, parse func(string) (*query.Query, error)) (*rule, error) {
	q, err := parse(cfg.Query)
	if err != nil {
		return nil, fmt.Errorf("rule %s: query: %w", cfg.Name, err)
	}
	r := &rule{cfg: cfg, q: q}
	var stats *query.StatsPipe
	for _, p := range q.Pipes {
		if sp, ok := p.(*query.StatsPipe); ok {
			stats = sp
		}
	}
	if stats == nil {
		return nil, fmt.Errorf("rule %s: the query must have a stats pipe, like '… | stats count() as n'", cfg.Name)
	}
	for _, k := range stats.By {
		if k.Bucket == 0 {
			r.by = append(r.by, k.Field)
		}
	}
	r.column, r.op, r.value, err = config.ParseCondition(cfg.Condition)
	if err != nil {
		return nil, fmt.Errorf("rule %s: %w", cfg.Name, err)
	}
	return r, nil
}

func (r *rule) holds(v float64) bool {
	switch r.op {
	case ">":
		return v > r.value
	case ">=":
		return v >= r.value
	case "<":
		return v < r.value
	case "<=":
		return v <= r.value
	case "==":
		return v == r.value
	case "!=":
		return v != r.value
	}
	return false
}

// result is one group whose condition holds.
type result struct {
	labels map[string]string
	value  float64
}

// eval runs the rule once at now and returns the groups whose condition
// holds.
func (r *rule) eval(ctx context.Context, run QueryFunc, now time.Time, maxGroups int) ([]result, string, error) {
	opts := query.Options{Tenant: r.cfg.Tenant, From: now.Add(-time.Duration(r.cfg.Window)).UnixNano(), To: now.UnixNano(), Now: now, MaxGroups: maxGroups}
	var out []result
	rows := 0
	partial, err := run(ctx, r.q, opts, func(row query.Row) error {
		rows++
		v := math.NaN()
		labels := r.baseLabels()
		for _, val := range row.Values {
			switch {
			case val.Name == r.column:
				if val.IsNum {
					v = val.Num
				} else if f, err := strconv.ParseFloat(val.Str, 64); err == nil {
					v = f
				}
			case isGroupField(r.by, val.Name):
				labels[val.Name] = val.String()
			}
		}
		if row.Record != nil {
			return fmt.Errorf("the query answers records, not stats rows")
		}
		if !math.IsNaN(v) && r.holds(v) {
			out = append(out, result{labels: labels, value: v})
		}
		return nil
	})
	if err != nil {
		return nil, partial, err
	}
	// A query over nothing answers no row: without groups, that is a
	// count of 0 (the absence rule 'n == 0').
	if rows == 0 && len(r.by) == 0 && r.holds(0) {
		out = append(out, result{labels: r.baseLabels(), value: 0})
	}
	return out, partial, nil
}

func (r *rule) baseLabels() map[string]string {
	labels := map[string]string{"alertname": r.cfg.Name}
	if r.cfg.Tenant != "" {
		labels["tenant"] = r.cfg.Tenant
	}
	maps.Copy(labels, r.cfg.Labels)
	return labels
}

func isGroupField(by []string, name string) bool {
	for _, b := range by {
		if b == name {
			return true
		}
	}
	return false
}

// apply moves the rule's alerts to what one evaluation at now found.
func (m *Manager) applyRule(r *rule, found []result, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r.deleted {
		return
	}
	holding := map[string]bool{}
	for _, res := range found {
		fp := notify.Fingerprint(res.labels)
		holding[fp] = true
		v := res.value
		a := m.st.Alerts[fp]
		if a == nil || a.State == StateResolved {
			a = &Alert{Fingerprint: fp, Source: r.cfg.Name, Kind: "rule", Tenant: r.cfg.Tenant, Labels: res.labels,
				State: StatePending, ActiveAt: now, Notified: map[string]string{}}
			if old := m.st.Alerts[fp]; old != nil {
				a.Notified = old.Notified
			}
			m.st.Alerts[fp] = a
			m.event(a, "inactive", StatePending, now)
		}
		a.Value = &v
		a.Annotations = map[string]string{
			"summary": fmt.Sprintf("%s: %s = %s (condition %s)", r.cfg.Name, r.column, record.FormatFloat(v), r.cfg.Condition),
			"value":   record.FormatFloat(v),
		}
		maps.Copy(a.Annotations, r.cfg.Annotations)
		if a.State == StatePending && now.Sub(a.ActiveAt) >= time.Duration(r.cfg.For) {
			a.State, a.FiredAt = StateFiring, now
			m.event(a, StatePending, StateFiring, now)
		}
	}
	for fp, a := range m.st.Alerts {
		if a.Kind != "rule" || a.Source != r.cfg.Name || a.Tenant != r.cfg.Tenant || holding[fp] {
			continue
		}
		m.endRuleAlert(a, now)
	}
	// Values and annotations only: every transition above was an event,
	// which marked the state dirty.
	m.progress = true
}

// endRuleAlert ends a rule's alert whose condition no longer holds: a
// pending one goes, a firing one resolves (true). The caller holds m.mu.
func (m *Manager) endRuleAlert(a *Alert, now time.Time) bool {
	switch a.State {
	case StatePending:
		delete(m.st.Alerts, a.Fingerprint)
		m.event(a, StatePending, "inactive", now)
	case StateFiring:
		a.State, a.ResolvedAt = StateResolved, now
		m.event(a, StateFiring, StateResolved, now)
		return true
	}
	return false
}
