package alert

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Alert states.
const (
	StatePending  = "pending"
	StateFiring   = "firing"
	StateResolved = "resolved"
	// StateSilenced is how a firing alert that a silence matches is shown;
	// it is not stored.
	StateSilenced = "silenced"
)

// Alert is one alert: a rule's group or a flow's key.
type Alert struct {
	Fingerprint string            `json:"fingerprint"`
	Source      string            `json:"source"` // the rule's or flow's name
	Kind        string            `json:"kind"`   // rule or flow
	Tenant      string            `json:"tenant"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"`
	ActiveAt    time.Time         `json:"active_at"`             // the condition first held (or the flow's deadline)
	FiredAt     time.Time         `json:"fired_at,omitzero"`     // became firing
	ResolvedAt  time.Time         `json:"resolved_at,omitzero"`  // became resolved
	Value       *float64          `json:"value,omitempty"`       // a rule's value of the condition's column
	Notified    map[string]string `json:"notified,omitempty"`    // notifier → the status it last took
	SilencedBy  string            `json:"silenced_by,omitempty"` // set in answers only
}

// RuleStatus is a rule's health.
type RuleStatus struct {
	LastEval     time.Time     `json:"last_eval,omitzero"`
	LastDuration time.Duration `json:"last_duration_ns"`
	LastError    string        `json:"last_error,omitempty"`
}

// NotifierStatus is how delivery to one notifier goes.
type NotifierStatus struct {
	Sent        int64     `json:"sent"`
	Failed      int64     `json:"failed"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	LastFailure time.Time `json:"last_failure,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
}

// Event is one state change, for the history.
type Event struct {
	Time        time.Time         `json:"time"`
	Source      string            `json:"source"`
	Tenant      string            `json:"tenant"`
	Fingerprint string            `json:"fingerprint"`
	Labels      map[string]string `json:"labels"`
	From        string            `json:"from"`
	To          string            `json:"to"`
}

// groupState is a notification group's progress with one notifier.
type groupState struct {
	LastSent    time.Time `json:"last_sent,omitzero"`
	LastAttempt time.Time `json:"last_attempt,omitzero"`
	FirstChange time.Time `json:"first_change,omitzero"`
	sending     bool
}

// state is everything persisted.
type state struct {
	Alerts    map[string]*Alert          `json:"alerts"` // by fingerprint
	Silences  []*Silence                 `json:"silences"`
	Rules     map[string]*RuleStatus     `json:"rules"`
	Notifiers map[string]*NotifierStatus `json:"notifiers"`
	Groups    map[string]*groupState     `json:"groups"` // notifier + "\x00" + group
	History   []Event                    `json:"history"`
	// FlowChecked is, per flow, the time up to which its keys' deadlines
	// were checked: a restart replays the records from within before it.
	FlowChecked map[string]time.Time `json:"flow_checked"`
}

func newState() *state {
	return &state{Alerts: map[string]*Alert{}, Rules: map[string]*RuleStatus{}, Notifiers: map[string]*NotifierStatus{},
		Groups: map[string]*groupState{}, FlowChecked: map[string]time.Time{}}
}

const stateFile = "state.json"

// loadState reads dir's state; a missing file is an empty state.
func loadState(dir string) (*state, error) {
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if os.IsNotExist(err) {
		return newState(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read alert state: %w", err)
	}
	s := newState()
	if err := json.Unmarshal(b, s); err != nil {
		return nil, fmt.Errorf("alert state %s: %w (move it away to start afresh)", filepath.Join(dir, stateFile), err)
	}
	for _, m := range []bool{s.Alerts == nil, s.Rules == nil, s.Notifiers == nil, s.Groups == nil, s.FlowChecked == nil} {
		if m {
			fresh := newState()
			if s.Alerts == nil {
				s.Alerts = fresh.Alerts
			}
			if s.Rules == nil {
				s.Rules = fresh.Rules
			}
			if s.Notifiers == nil {
				s.Notifiers = fresh.Notifiers
			}
			if s.Groups == nil {
				s.Groups = fresh.Groups
			}
			if s.FlowChecked == nil {
				s.FlowChecked = fresh.FlowChecked
			}
			break
		}
	}
	return s, nil
}
