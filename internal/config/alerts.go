package config

import (
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/sluice-log/sluice/internal/tenant"
)

// AlertsConfig configures rules, flow checks and where their alerts go
// (docs/alerts.md).
type AlertsConfig struct {
	Notifiers      []NotifierConfig `yaml:"notifiers" doc:"Where alerts are sent. Each has a name (what rules and flows list in notify) and a type: webhook (the Alertmanager webhook payload, version 4), alertmanager (Prometheus Alertmanager's API v2 at url), slack (a Slack-compatible incoming webhook), email (SMTP with STARTTLS) or pagerduty (Events API v2)."`
	Rules          []RuleConfig     `yaml:"rules" doc:"Rules: a stats query run every 'every' over the 'window' ending now; each result row (one per group of its by fields) for which the condition holds is an alert."`
	Flows          []FlowConfig     `yaml:"flows" doc:"Flow checks: every record matching start must be followed, within 'within', by a record matching end with the same value of the key field; a key whose time runs out fires one alert (label <key>=<value>), resolved if its end arrives later. Evaluated as records are ingested (roles all and querier)."`
	GroupWait      Duration         `yaml:"group_wait" doc:"How long a new group of alerts (a rule's or a flow's, for one notifier) waits before its first notification, so that alerts firing together go out together."`
	GroupInterval  Duration         `yaml:"group_interval" doc:"Least time between two notifications of one group when alerts were added to it or resolved."`
	RepeatInterval Duration         `yaml:"repeat_interval" doc:"A group whose alerts still fire is notified again after this long."`
	Retries        int              `yaml:"retries" doc:"Attempts of one notification after the first fails, waiting 1s, 2s, 4s … (at most max_backoff) between them; a notification that failed every attempt is tried again at the next group_interval (counted in sluice_alert_notifications_failed_total and shown on the alerts page)."`
	MaxBackoff     Duration         `yaml:"max_backoff" doc:"Longest wait between two attempts of a notification."`
	Timeout        Duration         `yaml:"timeout" doc:"Deadline of one attempt to send a notification."`
	History        int              `yaml:"history" doc:"Alert state changes kept for the alerts page and /api/v1/alerts (the newest ones)."`
	FlowPollLag    Duration         `yaml:"flow_poll_lag" doc:"Role querier only (flows read from the indexers by queries): each poll reads the records stamped from the previous poll's end minus this lag, so that records reaching the indexers this late are still seen."`
}

// NotifierConfig is one entry of alerts.notifiers.
type NotifierConfig struct {
	Name           string            `yaml:"name" doc:"What rules and flows name in notify."`
	Type           string            `yaml:"type" doc:"webhook, alertmanager, slack, email or pagerduty."`
	URL            string            `yaml:"url" doc:"webhook and slack: the URL posted to; alertmanager: the Alertmanager's base URL (alerts go to <url>/api/v2/alerts); pagerduty: the Events API v2 URL (default https://events.pagerduty.com/v2/enqueue)."`
	Headers        map[string]string `yaml:"headers" doc:"webhook and alertmanager: extra HTTP headers (e.g. Authorization)."`
	RoutingKey     string            `yaml:"routing_key" doc:"pagerduty: the integration's routing key."`
	RoutingKeyFile string            `yaml:"routing_key_file" doc:"pagerduty: read routing_key from this file."`
	SMTPAddr       string            `yaml:"smtp_addr" doc:"email: the SMTP server (host:port); the connection is upgraded with STARTTLS when the server offers it, and must be when require_tls is set."`
	From           string            `yaml:"from" doc:"email: the sender address."`
	To             []string          `yaml:"to" doc:"email: the recipients."`
	Username       string            `yaml:"username" doc:"email: SMTP user (PLAIN authentication, only over TLS)."`
	Password       string            `yaml:"password" doc:"email: SMTP password."`
	PasswordFile   string            `yaml:"password_file" doc:"email: read password from this file."`
	RequireTLS     *bool             `yaml:"require_tls" default:"true" doc:"email: refuse to send when the server does not offer STARTTLS."`
	TLSCAFile      string            `yaml:"tls_ca_file" doc:"email, webhook, alertmanager, slack, pagerduty: PEM CA bundle to verify the server with (default: the system's)."`
	TLSInsecure    bool              `yaml:"tls_insecure_skip_verify" doc:"Do not verify the server's certificate (tests only)."`
}

// RuleConfig is one entry of alerts.rules.
type RuleConfig struct {
	Name        string            `yaml:"name" doc:"The rule's name: the alertname label of its alerts."`
	Tenant      string            `yaml:"tenant" doc:"The tenant whose records the query reads (X-Scope-OrgID; empty: the default tenant)."`
	Query       string            `yaml:"query" doc:"A query ending in stats, e.g. 'service:payments AND level:error | stats count() as n'; with by fields, each group is an alert of its own whose labels carry the group's values."`
	Every       Duration          `yaml:"every" default:"1m" doc:"How often the rule runs."`
	Window      Duration          `yaml:"window" default:"every" doc:"The time range each run reads, ending now."`
	Condition   string            `yaml:"condition" doc:"column op number, op one of > >= < <= == !=, e.g. 'n > 100'; 'n == 0' on a query without by fields is an absence rule (nothing matched in the window)."`
	For         Duration          `yaml:"for" doc:"How long the condition must hold before the alert fires (0: at once); meanwhile it is pending."`
	Labels      map[string]string `yaml:"labels" doc:"Labels added to each alert (team, severity …)."`
	Annotations map[string]string `yaml:"annotations" doc:"Annotations added to each alert (summary, runbook …)."`
	Notify      []string          `yaml:"notify" doc:"Names of the notifiers its alerts go to."`
}

// StepFilters returns the flow's filters in order: its steps, or its start
// and end.
func (f FlowConfig) StepFilters() []string {
	if len(f.Steps) > 0 {
		return f.Steps
	}
	return []string{f.Start, f.End}
}

// FlowConfig is one entry of alerts.flows.
type FlowConfig struct {
	Name        string            `yaml:"name" doc:"The flow's name: the alertname label of its alerts."`
	Tenant      string            `yaml:"tenant" doc:"The tenant whose records are checked."`
	Start       string            `yaml:"start" doc:"A filter: a record matching it opens the flow for its key."`
	End         string            `yaml:"end" doc:"A filter: the record that must follow, with the same key."`
	Steps       []string          `yaml:"steps" doc:"Instead of start and end: filters of a flow of more than two steps (A then B then C), at least two; the first is the start, and every other step must be seen for the key within 'within' of its start. A key's alert names the first step not seen (annotation missing_step)."`
	Key         string            `yaml:"key" doc:"The field that ties a start and its end together."`
	Within      Duration          `yaml:"within" doc:"How long after its start the end may come."`
	Labels      map[string]string `yaml:"labels" doc:"Labels added to each alert."`
	Notify      []string          `yaml:"notify" doc:"Names of the notifiers its alerts go to."`
	MaxOpenKeys int               `yaml:"max_open_keys" default:"1000000" doc:"Most keys the flow tracks at once (open, and completed ones kept until their window ends); a start past it is not tracked and counts in sluice_flow_keys_dropped_total."`
	MaxAlerts   int               `yaml:"max_alerts" default:"1000" doc:"Most alerts of the flow firing at once; a key that runs out of time past it fires none and counts in sluice_flow_alerts_dropped_total (sluice_flow_violations_total counts it either way). A fired key whose end has not come 24h after it fired is given up: its alert resolves with the annotation expired."`
}

// MetricConfig is one entry of metrics: a counter derived from logs.
type MetricConfig struct {
	Name      string `yaml:"name" doc:"Exported as sluice_log_<name> on /metrics (and to Graphite)."`
	Tenant    string `yaml:"tenant" doc:"The tenant whose records count."`
	Query     string `yaml:"query" doc:"A filter and a stats pipe of count() and sum(field) calls, grouped by fields or not, e.g. 'status:>=500 | stats count() as n by service'; evaluated on each record as it is ingested."`
	MaxSeries int    `yaml:"max_series" default:"1000" doc:"Most label sets (groups) the metric keeps; records of a new group past it are not counted and count in sluice_log_metric_series_dropped_total."`
}

// GraphiteConfig configures pushing metrics to Graphite or InfluxDB.
type GraphiteConfig struct {
	Addr     string   `yaml:"addr" doc:"Where Sluice's metrics (its own and those of metrics) are pushed over TCP (host:port); empty: off."`
	Prefix   string   `yaml:"prefix" doc:"Prefix of every metric path (Graphite) or measurement (InfluxDB)."`
	Interval Duration `yaml:"interval" doc:"How often the metrics are pushed."`
	Format   string   `yaml:"format" doc:"graphite: the plaintext protocol (path value timestamp); influx: InfluxDB line protocol (measurement,tag=v field=value timestamp), as Telegraf's socket_listener and InfluxDB's TCP listeners take it."`
}

// Notifier types.
var notifierTypes = []string{"webhook", "alertmanager", "slack", "email", "pagerduty"}

var (
	metricNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	conditionRE  = regexp.MustCompile(`^\s*(\S+)\s*(>=|<=|==|!=|>|<)\s*(-?[0-9.eE+-]+)\s*$`)
)

// ParseCondition splits a rule's condition into its column, operator and
// number.
func ParseCondition(s string) (column, op string, value float64, err error) {
	m := conditionRE.FindStringSubmatch(s)
	if m == nil {
		return "", "", 0, fmt.Errorf("condition %q: want 'column op number', op one of > >= < <= == !=", s)
	}
	value, err = strconv.ParseFloat(m[3], 64)
	if err != nil {
		return "", "", 0, fmt.Errorf("condition %q: %q is not a finite number", s, m[3])
	}
	return m[1], m[2], value, nil
}

func defaultAlerts(c *Config) {
	c.Alerts.GroupWait = Duration(time.Second)
	c.Alerts.GroupInterval = Duration(30 * time.Second)
	c.Alerts.RepeatInterval = Duration(4 * time.Hour)
	c.Alerts.Retries = 5
	c.Alerts.MaxBackoff = Duration(time.Minute)
	c.Alerts.Timeout = Duration(10 * time.Second)
	c.Alerts.History = 500
	c.Alerts.FlowPollLag = Duration(30 * time.Second)
	c.Graphite.Prefix = "sluice"
	c.Graphite.Interval = Duration(10 * time.Second)
	c.Graphite.Format = "graphite"
}

// applyAlertDefaults fills the defaults of list entries, which YAML leaves
// zero.
func (c *Config) applyAlertDefaults() {
	for i := range c.Alerts.Rules {
		r := &c.Alerts.Rules[i]
		if r.Every == 0 {
			r.Every = Duration(time.Minute)
		}
		if r.Window == 0 {
			r.Window = r.Every
		}
	}
	for i := range c.Alerts.Flows {
		if c.Alerts.Flows[i].MaxOpenKeys == 0 {
			c.Alerts.Flows[i].MaxOpenKeys = 1_000_000
		}
		if c.Alerts.Flows[i].MaxAlerts == 0 {
			c.Alerts.Flows[i].MaxAlerts = 1000
		}
	}
	for i := range c.Metrics {
		if c.Metrics[i].MaxSeries == 0 {
			c.Metrics[i].MaxSeries = 1000
		}
	}
}

func (c *Config) validateAlerts() []error {
	c.applyAlertDefaults()
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	a := &c.Alerts
	if a.GroupWait < 0 || a.GroupInterval <= 0 || a.RepeatInterval <= 0 {
		bad("alerts.group_wait must not be negative, alerts.group_interval and alerts.repeat_interval must be positive")
	}
	if a.Retries < 0 || a.MaxBackoff <= 0 || a.Timeout <= 0 {
		bad("alerts.retries must not be negative, alerts.max_backoff and alerts.timeout must be positive")
	}
	if a.History < 0 {
		bad("alerts.history must not be negative")
	}
	names := map[string]bool{}
	for i, n := range a.Notifiers {
		where := fmt.Sprintf("alerts.notifiers[%d]", i)
		switch {
		case n.Name == "":
			bad("%s.name must not be empty", where)
		case names[n.Name]:
			bad("%s: notifier %q defined twice", where, n.Name)
		}
		names[n.Name] = true
		if !slices.Contains(notifierTypes, n.Type) {
			bad("%s (%s).type %q: want one of %v", where, n.Name, n.Type, notifierTypes)
		}
		switch n.Type {
		case "webhook", "alertmanager", "slack":
			if n.URL == "" {
				bad("%s (%s): type %s needs url", where, n.Name, n.Type)
			}
		case "email":
			if n.SMTPAddr == "" || n.From == "" || len(n.To) == 0 {
				bad("%s (%s): type email needs smtp_addr, from and to", where, n.Name)
			} else if _, _, err := net.SplitHostPort(n.SMTPAddr); err != nil {
				bad("%s (%s).smtp_addr: %v", where, n.Name, err)
			}
		case "pagerduty":
			if n.RoutingKey == "" && n.RoutingKeyFile == "" {
				bad("%s (%s): type pagerduty needs routing_key or routing_key_file", where, n.Name)
			}
		}
	}
	checkNotify := func(where string, notify []string) {
		for _, n := range notify {
			if !names[n] {
				bad("%s.notify: no notifier named %q in alerts.notifiers", where, n)
			}
		}
	}
	seen := map[string]bool{}
	for i, r := range a.Rules {
		where := fmt.Sprintf("alerts.rules[%d]", i)
		if r.Name == "" {
			bad("%s.name must not be empty", where)
		}
		if seen[r.Name] {
			bad("%s: rule or flow %q defined twice", where, r.Name)
		}
		seen[r.Name] = true
		if r.Query == "" {
			bad("%s (%s).query must not be empty", where, r.Name)
		}
		if err := tenant.Check(r.Tenant); err != nil {
			bad("%s (%s).tenant: %v", where, r.Name, err)
		}
		if r.Every <= 0 || r.Window <= 0 || r.For < 0 {
			bad("%s (%s): every and window must be positive, for must not be negative", where, r.Name)
		}
		if _, _, _, err := ParseCondition(r.Condition); err != nil {
			bad("%s (%s): %v", where, r.Name, err)
		}
		checkNotify(where, r.Notify)
	}
	for i, f := range a.Flows {
		where := fmt.Sprintf("alerts.flows[%d]", i)
		if f.Name == "" {
			bad("%s.name must not be empty", where)
		}
		if seen[f.Name] {
			bad("%s: rule or flow %q defined twice", where, f.Name)
		}
		seen[f.Name] = true
		switch {
		case len(f.Steps) > 0 && (f.Start != "" || f.End != ""):
			bad("%s (%s): steps replace start and end: set one or the other", where, f.Name)
		case len(f.Steps) == 1:
			bad("%s (%s): steps needs at least two filters", where, f.Name)
		case slices.Contains(f.Steps, ""):
			bad("%s (%s): a step must not be empty", where, f.Name)
		case len(f.Steps) == 0 && (f.Start == "" || f.End == ""), f.Key == "":
			bad("%s (%s): start and end (or steps), and key must be set", where, f.Name)
		}
		if err := tenant.Check(f.Tenant); err != nil {
			bad("%s (%s).tenant: %v", where, f.Name, err)
		}
		if f.Within <= 0 {
			bad("%s (%s).within must be positive", where, f.Name)
		}
		if f.MaxOpenKeys < 0 || f.MaxAlerts < 0 {
			bad("%s (%s): max_open_keys and max_alerts must not be negative", where, f.Name)
		}
		checkNotify(where, f.Notify)
	}
	mnames := map[string]bool{}
	for i, m := range c.Metrics {
		where := fmt.Sprintf("metrics[%d]", i)
		if !metricNameRE.MatchString(m.Name) {
			bad("%s.name %q: want letters, digits and _ (a Prometheus metric name)", where, m.Name)
		}
		if mnames[m.Name] {
			bad("%s: metric %q defined twice", where, m.Name)
		}
		mnames[m.Name] = true
		if m.Query == "" {
			bad("%s (%s).query must not be empty", where, m.Name)
		}
		if err := tenant.Check(m.Tenant); err != nil {
			bad("%s (%s).tenant: %v", where, m.Name, err)
		}
		if m.MaxSeries < 0 {
			bad("%s (%s).max_series must not be negative", where, m.Name)
		}
	}
	if c.Graphite.Addr != "" {
		if _, _, err := net.SplitHostPort(c.Graphite.Addr); err != nil {
			bad("graphite.addr: %v", err)
		}
	}
	if c.Graphite.Interval <= 0 {
		bad("graphite.interval must be positive")
	}
	if c.Graphite.Format != "graphite" && c.Graphite.Format != "influx" {
		bad("graphite.format must be graphite or influx, got %q", c.Graphite.Format)
	}
	return errs
}
