package alert

import (
	"context"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/sluice-log/sluice/internal/alert/notify"
)

// source is what a group's alerts come from: a rule or a flow.
type source struct {
	name, tenant string
	notify       []string
}

func (m *Manager) sources() []source {
	var out []source
	for _, r := range m.rules {
		out = append(out, source{r.cfg.Name, r.cfg.Tenant, r.cfg.Notify})
	}
	for _, f := range m.flows {
		out = append(out, source{f.cfg.Name, f.cfg.Tenant, f.cfg.Notify})
	}
	return append(out, m.retired...)
}

// silencedBy returns the id of an active silence that mutes a, or "";
// the caller holds m.mu.
func (m *Manager) silencedBy(a *Alert, now time.Time) string {
	for _, s := range m.st.Silences {
		if s.Active(now) && s.Matches(a.Tenant, a.Labels) {
			return s.ID
		}
	}
	return ""
}

// dispatch starts the notifications that are due: per source and
// notifier, the alerts whose status the notifier has not taken yet, after
// group_wait for a new group and group_interval since the last one, and
// the firing ones again after repeat_interval.
func (m *Manager) dispatch(ctx context.Context) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	// Nothing changed and no timer is due: the pass below would decide
	// what the last one did (with thousands of firing alerts it cost 2%
	// of the server's CPU twice a second under bench ingest, pprof).
	if !m.recheck && now.Before(m.nextCheck) {
		return
	}
	m.recheck = false
	// A full pass at least every recheckEvery, should a change ever come
	// unmarked.
	next := now.Add(recheckEvery)
	due := func(t time.Time) {
		if t.After(now) && t.Before(next) {
			next = t
		}
	}
	defer func() { m.nextCheck = next }()
	for _, s := range m.st.Silences {
		due(s.StartsAt)
		due(s.EndsAt)
		due(s.EndsAt.Add(24 * time.Hour))
	}
	// One pass over the alerts, not one per source.
	bySource := map[[2]string][]*Alert{}
	for _, a := range m.st.Alerts {
		k := [2]string{a.Source, a.Tenant}
		bySource[k] = append(bySource[k], a)
	}
	for _, src := range m.sources() {
		members := bySource[[2]string{src.name, src.tenant}]
		for _, n := range src.notify {
			due(m.dispatchGroup(ctx, src, n, members, now))
		}
		// A resolved alert every notifier has taken is done.
		for _, a := range members {
			if a.State != StateResolved {
				continue
			}
			done := true
			for _, n := range src.notify {
				if a.Notified[n] == notify.StatusFiring || m.st.Groups[groupKey(n, src)] != nil && m.st.Groups[groupKey(n, src)].sending {
					done = false
				}
			}
			if done {
				delete(m.st.Alerts, a.Fingerprint)
				m.dirty = true
			}
		}
	}
	// A deleted rule is forgotten once its last alert is sent resolved.
	m.retired = slices.DeleteFunc(m.retired, func(src source) bool {
		for _, a := range m.st.Alerts {
			if a.Source == src.name && a.Tenant == src.tenant {
				return false
			}
		}
		return true
	})
	// Expired silences go after a day, so that the page still shows them
	// for a while.
	kept := m.st.Silences[:0]
	for _, s := range m.st.Silences {
		if now.Sub(s.EndsAt) < 24*time.Hour {
			kept = append(kept, s)
		}
	}
	if len(kept) != len(m.st.Silences) {
		m.dirty = true
	}
	m.st.Silences = kept
}

func groupKey(notifier string, src source) string {
	return notifier + "\x00" + src.tenant + "\x00" + src.name
}

// recheckEvery is the longest dispatch goes without a full pass.
const recheckEvery = 10 * time.Second

// dispatchGroup starts the group's notification when it is due, and
// returns when it will be due if nothing changes (zero: never, or when
// the notification in flight ends); the caller holds m.mu.
func (m *Manager) dispatchGroup(ctx context.Context, src source, n string, members []*Alert, now time.Time) time.Time {
	key := groupKey(n, src)
	gs := m.st.Groups[key]
	if gs == nil {
		gs = &groupState{}
		m.st.Groups[key] = gs
	}
	if gs.sending {
		return time.Time{}
	}
	var firing, changed []*Alert
	for _, a := range members {
		switch a.State {
		case StateFiring:
			if m.silencedBy(a, now) != "" {
				continue
			}
			firing = append(firing, a)
			if a.Notified[n] != notify.StatusFiring {
				changed = append(changed, a)
			}
		case StateResolved:
			if a.Notified[n] == notify.StatusFiring {
				changed = append(changed, a)
			}
		}
	}
	repeat := time.Duration(m.cfg.RepeatInterval)
	if r, ok := m.notifiers[n].(notify.Resender); ok {
		repeat = min(repeat, r.ResendEvery())
	}
	last := gs.LastSent
	if gs.LastAttempt.After(last) {
		last = gs.LastAttempt
	}
	var at time.Time // when the group is due
	switch {
	case len(changed) > 0 && gs.LastSent.IsZero() && gs.LastAttempt.IsZero():
		if gs.FirstChange.IsZero() {
			gs.FirstChange = now
		}
		at = gs.FirstChange.Add(time.Duration(m.cfg.GroupWait))
	case len(changed) > 0:
		at = last.Add(time.Duration(m.cfg.GroupInterval))
	case len(firing) > 0:
		at = gs.LastSent.Add(repeat)
		if t := last.Add(time.Duration(m.cfg.GroupInterval)); t.After(at) {
			at = t
		}
	default:
		return time.Time{}
	}
	if now.Before(at) {
		return at
	}
	msg := &notify.Message{Receiver: n, GroupKey: "{}:{alertname=\"" + src.name + "\"}", GroupLabels: map[string]string{"alertname": src.name}}
	sentStatus := map[string]string{}
	for _, a := range firing {
		msg.Alerts = append(msg.Alerts, wireAlert(a))
		sentStatus[a.Fingerprint] = notify.StatusFiring
	}
	for _, a := range changed {
		if a.State == StateResolved {
			msg.Alerts = append(msg.Alerts, wireAlert(a))
			sentStatus[a.Fingerprint] = notify.StatusResolved
		}
	}
	gs.sending = true
	go m.send(ctx, n, gs, msg, sentStatus)
	return time.Time{}
}

func wireAlert(a *Alert) notify.Alert {
	w := notify.Alert{Status: notify.StatusFiring, Labels: maps.Clone(a.Labels), Annotations: maps.Clone(a.Annotations),
		StartsAt: a.FiredAt, Fingerprint: a.Fingerprint}
	if a.State == StateResolved {
		w.Status, w.EndsAt = notify.StatusResolved, a.ResolvedAt
	}
	if w.StartsAt.IsZero() {
		w.StartsAt = a.ActiveAt
	}
	return w
}

// send delivers msg with retries and records the outcome.
func (m *Manager) send(ctx context.Context, n string, gs *groupState, msg *notify.Message, sentStatus map[string]string) {
	var err error
	backoff := time.Second
	for attempt := 0; attempt <= m.cfg.Retries; attempt++ {
		if attempt > 0 {
			m.retried.WithLabelValues(n).Inc()
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, time.Duration(m.cfg.MaxBackoff))
		}
		if ctx.Err() != nil {
			err = errors.Join(err, ctx.Err())
			break
		}
		actx, cancel := context.WithTimeout(ctx, time.Duration(m.cfg.Timeout))
		err = m.notifiers[n].Notify(actx, msg)
		cancel()
		if err == nil {
			break
		}
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	gs.sending = false
	gs.LastAttempt = now
	ns := m.st.Notifiers[n]
	m.changed()
	if err != nil {
		m.failed.WithLabelValues(n).Inc()
		ns.Failed++
		ns.LastFailure, ns.LastError = now, err.Error()
		m.log.Warn("alert notification failed; retried at the next group_interval", "notifier", n, "group", msg.GroupLabels["alertname"], "alerts", len(msg.Alerts), "err", err)
		return
	}
	m.sent.WithLabelValues(n).Inc()
	ns.Sent++
	ns.LastSuccess = now
	gs.LastSent = now
	for _, a := range m.st.Alerts {
		if s, ok := sentStatus[a.Fingerprint]; ok {
			if a.Notified == nil {
				a.Notified = map[string]string{}
			}
			a.Notified[n] = s
		}
	}
}
