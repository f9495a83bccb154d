package alert

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// RuleInfo is a rule as /api/v1/alerts shows it.
type RuleInfo struct {
	Name      string            `json:"name"`
	Query     string            `json:"query"`
	Condition string            `json:"condition"`
	Every     string            `json:"every"`
	Window    string            `json:"window"`
	For       string            `json:"for"`
	Labels    map[string]string `json:"labels"`
	Notify    []string          `json:"notify"`
	// Runtime: made through the API (POST /api/v1/rules), so it can be
	// deleted there; the others are in the configuration.
	Runtime bool `json:"runtime,omitempty"`
	RuleStatus
	Firing  int `json:"firing"`
	Pending int `json:"pending"`
}

// NotifierInfo is a notifier as /api/v1/alerts shows it.
type NotifierInfo struct {
	Name string `json:"name"`
	Type string `json:"type"`
	NotifierStatus
}

// Overview is the answer of GET /api/v1/alerts: one tenant's view.
type Overview struct {
	Rules     []RuleInfo     `json:"rules"`
	Flows     []FlowStatus   `json:"flows"`
	Alerts    []Alert        `json:"alerts"`
	Silences  []Silence      `json:"silences"`
	Notifiers []NotifierInfo `json:"notifiers"`
	History   []Event        `json:"history"`
}

// Overview returns tenant's rules, flows, alerts, silences and history.
func (m *Manager) Overview(tenant string) Overview {
	now := m.now()
	var flows []FlowStatus
	for _, f := range m.flows {
		if f.cfg.Tenant == tenant {
			flows = append(flows, f.status())
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	o := Overview{Rules: []RuleInfo{}, Flows: flows, Alerts: []Alert{}, Silences: []Silence{}, Notifiers: []NotifierInfo{}, History: []Event{}}
	if o.Flows == nil {
		o.Flows = []FlowStatus{}
	}
	for i := range o.Flows {
		o.Flows[i].Checked = m.st.FlowChecked[o.Flows[i].Name]
	}
	for _, a := range m.st.Alerts {
		if a.Tenant != tenant {
			continue
		}
		c := *a
		if c.State == StateFiring {
			if id := m.silencedBy(a, now); id != "" {
				c.State, c.SilencedBy = StateSilenced, id
			}
		}
		o.Alerts = append(o.Alerts, c)
	}
	slices.SortFunc(o.Alerts, func(a, b Alert) int {
		if c := strings.Compare(a.Source, b.Source); c != 0 {
			return c
		}
		return a.ActiveAt.Compare(b.ActiveAt)
	})
	for _, r := range m.rules {
		if r.cfg.Tenant == tenant {
			o.Rules = append(o.Rules, m.ruleInfo(r, o.Alerts))
		}
	}
	for _, s := range m.st.Silences {
		if s.Tenant == tenant {
			o.Silences = append(o.Silences, *s)
		}
	}
	for _, n := range m.cfg.Notifiers {
		ni := NotifierInfo{Name: n.Name, Type: n.Type}
		if ns := m.st.Notifiers[n.Name]; ns != nil {
			ni.NotifierStatus = *ns
		}
		o.Notifiers = append(o.Notifiers, ni)
	}
	for i := len(m.st.History) - 1; i >= 0; i-- {
		if e := m.st.History[i]; e.Tenant == tenant {
			o.History = append(o.History, e)
		}
	}
	return o
}

// ruleInfo is r as the API shows it, with the counts of its alerts among
// alerts (the tenant's, silenced ones marked); the caller holds m.mu.
func (m *Manager) ruleInfo(r *rule, alerts []Alert) RuleInfo {
	ri := RuleInfo{Name: r.cfg.Name, Query: r.cfg.Query, Condition: r.cfg.Condition, Every: time.Duration(r.cfg.Every).String(),
		Window: time.Duration(r.cfg.Window).String(), For: time.Duration(r.cfg.For).String(), Labels: r.cfg.Labels, Notify: r.cfg.Notify,
		Runtime: r.runtime}
	if rs := m.st.Rules[ruleKey(r.cfg.Tenant, r.cfg.Name)]; rs != nil {
		ri.RuleStatus = *rs
	}
	for _, a := range alerts {
		if a.Source == r.cfg.Name && a.Kind == "rule" {
			switch a.State {
			case StateFiring, StateSilenced:
				ri.Firing++
			case StatePending:
				ri.Pending++
			}
		}
	}
	return ri
}

// AddSilence validates s and stores it for tenant.
func (m *Manager) AddSilence(tenant string, s Silence) (Silence, error) {
	now := m.now()
	s.Tenant = tenant
	s.ID = newID()
	if err := s.validate(now); err != nil {
		return Silence{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.st.Silences) >= maxSilences {
		return Silence{}, fmt.Errorf("%d silences already: delete some first", maxSilences)
	}
	m.st.Silences = append(m.st.Silences, &s)
	m.changed()
	return s, nil
}

const maxSilences = 10000

// ExpireSilence ends tenant's silence id now; false if there is none.
func (m *Manager) ExpireSilence(tenant, id string) bool {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.st.Silences {
		if s.ID == id && s.Tenant == tenant {
			if s.EndsAt.After(now) {
				s.EndsAt = now
				if s.StartsAt.After(now) {
					s.StartsAt = now
				}
			}
			m.changed()
			return true
		}
	}
	return false
}

// Routes are the manager's HTTP endpoints; tenant names a request's
// tenant.
func (m *Manager) Routes(tenant func(*http.Request) string) map[string]http.Handler {
	return map[string]http.Handler{
		"GET /api/v1/alerts": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, m.Overview(tenant(r)))
		}),
		"GET /api/v1/flows": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, map[string]any{"flows": m.Overview(tenant(r)).Flows})
		}),
		"GET /api/v1/silences": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, map[string]any{"silences": m.Overview(tenant(r)).Silences})
		}),
		"POST /api/v1/silences": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var s Silence
			dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
			if err := dec.Decode(&s); err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "silence: " + err.Error()})
				return
			}
			got, err := m.AddSilence(tenant(r), s)
			if err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "silence: " + err.Error()})
				return
			}
			writeJSON(w, http.StatusOK, got)
		}),
		"GET /api/v1/rules": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, map[string]any{"rules": m.Overview(tenant(r)).Rules})
		}),
		"POST /api/v1/rules": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var in RuleSpec
			dec := json.NewDecoder(io.LimitReader(r.Body, 2*maxRuleQuery))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&in); err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "rule: " + err.Error()})
				return
			}
			got, err := m.AddRule(tenant(r), in)
			switch {
			case errors.Is(err, ErrRuleExists):
				writeJSON(w, http.StatusConflict, map[string]string{"error": "rule: " + err.Error()})
			case errors.Is(err, errSaveRules):
				writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "rule: " + err.Error()})
			case err != nil:
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "rule: " + err.Error()})
			default:
				writeJSON(w, http.StatusOK, got)
			}
		}),
		"DELETE /api/v1/rules/{name}": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ok, err := m.DeleteRule(tenant(r), r.PathValue("name"))
			switch {
			case err != nil:
				writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
			case !ok:
				writeJSON(w, http.StatusNotFound, map[string]string{"error": "no rule " + r.PathValue("name") + " made through the API (rules of the configuration are changed there)"})
			default:
				writeJSON(w, http.StatusOK, map[string]string{"status": "deleted"})
			}
		}),
		"DELETE /api/v1/silences/{id}": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !m.ExpireSilence(tenant(r), r.PathValue("id")) {
				writeJSON(w, http.StatusNotFound, map[string]string{"error": "no silence " + r.PathValue("id")})
				return
			}
			writeJSON(w, http.StatusOK, map[string]string{"status": "expired"})
		}),
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
