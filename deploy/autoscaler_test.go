package deploy

import (
	"cmp"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/sluice-log/sluice/internal/config"
)

// grant is one thing a Role allows: a verb on a resource of an API group,
// on one object by name or ("") on all.
type grant struct{ group, resource, name, verb string }

func (g grant) String() string {
	return fmt.Sprintf("%s on %s (group %q) named %q", g.verb, g.resource, g.group, cmp.Or(g.name, "*"))
}

// autoscaleControllers checks every sluice autoscale Deployment: it runs
// `autoscale --config FILE` with a configuration Sluice's parser takes,
// for an indexer workload of the chart (its consumer group, topic and
// brokers, and the port where its pods serve /metrics without a key); it
// serves its decisions on a container port a Service exposes; and its
// ServiceAccount's Roles grant exactly what the autoscalers need: get,
// update and patch on each target's scale subresource (get alone when it
// only decides, for KEDA), get on the target, list on pods; nothing else.
func (c *checker) autoscaleControllers() {
	c.scaledBy, c.decidesFor = map[*workload]autoscaler{}, map[*workload]autoscaler{}
	want := map[grant]bool{}
	accounts := map[string]bool{}
	for _, a := range c.o.autoscalers {
		spec := a.pod.Spec
		ctr, ok := c.soleContainer(a)
		if !ok {
			continue
		}
		if len(ctr.Args) != 3 || ctr.Args[0] != "autoscale" || ctr.Args[1] != "--config" {
			c.errorf("%s: args %q: want autoscale --config FILE", a, ctr.Args)
			continue
		}
		cfg, ok := c.configFile(a, ctr.Args[2])
		if !ok {
			continue
		}
		as := cfg.Autoscale
		kind, name := "Deployment", as.Deployment
		if as.StatefulSet != "" {
			kind, name = "StatefulSet", as.StatefulSet
		}
		t := c.o.workload(kind, name)
		if t == nil {
			c.errorf("%s: scales %s %q, which is not in the chart", a, kind, name)
			continue
		}
		if a.replicas == nil || *a.replicas != 1 {
			c.errorf("%s: want exactly one replica: two controllers of %s would fight", a, t)
		}
		if other, dup := c.scaledBy[t]; dup {
			c.errorf("%s and %s both scale %s", a, other.w, t)
		}
		if other, dup := c.decidesFor[t]; dup {
			c.errorf("%s and %s both decide for %s", a, other.w, t)
		}
		if as.DryRun {
			c.decidesFor[t] = autoscaler{a, as}
		} else {
			c.scaledBy[t] = autoscaler{a, as}
		}
		tcfg, ok := c.config(t)
		if !ok || tcfg.Role != config.RoleIndexer {
			c.errorf("%s: scales %s, which is no indexer", a, t)
			continue
		}
		if cfg.Kafka.ConsumerGroup != tcfg.Kafka.ConsumerGroup || cfg.Kafka.Topic != tcfg.Kafka.Topic || !slices.Equal(cfg.Kafka.Brokers, tcfg.Kafka.Brokers) ||
			cfg.Kafka.TLS != tcfg.Kafka.TLS || cfg.Kafka.Username != tcfg.Kafka.Username {
			c.errorf("%s: reads group %q of topic %q at %v (TLS %v, user %q), but %s consumes group %q of %q at %v (TLS %v, user %q)", a,
				cfg.Kafka.ConsumerGroup, cfg.Kafka.Topic, cfg.Kafka.Brokers, cfg.Kafka.TLS, cfg.Kafka.Username,
				t, tcfg.Kafka.ConsumerGroup, tcfg.Kafka.Topic, tcfg.Kafka.Brokers, tcfg.Kafka.TLS, tcfg.Kafka.Username)
		}
		if cfg.Kafka.PasswordFile != "" {
			c.mountedFile(a, "kafka.password_file", cfg.Kafka.PasswordFile)
		}
		// The indexers' /metrics without a key: http.metrics_addr with
		// auth, else the HTTP listener.
		metricsAddr := tcfg.HTTP.Addr
		if tcfg.Auth.Enabled {
			metricsAddr = tcfg.HTTP.MetricsAddr
		}
		if _, p, _ := net.SplitHostPort(metricsAddr); p != strconv.Itoa(as.MetricsPort) {
			c.errorf("%s: reads the indexers' /metrics on port %d, but %s serves it without a key at %q", a, as.MetricsPort, t, metricsAddr)
		}
		if as.Listen == "" {
			c.errorf("%s: serves no decisions (autoscale.listen)", a)
		} else {
			port := c.listenPort(a, "autoscale.listen", as.Listen, corev1.ProtocolTCP)
			for _, pr := range []struct {
				name, path string
				p          *corev1.Probe
			}{{"liveness", "/healthz", ctr.LivenessProbe}, {"readiness", "/readyz", ctr.ReadinessProbe}} {
				if cp, ok := a.containerPort(portOfProbe(pr.p), corev1.ProtocolTCP); !ok || cp.ContainerPort != port || pr.p.HTTPGet.Path != pr.path {
					c.errorf("%s: a %s probe that does not ask %s on autoscale.listen's port %d", a, pr.name, pr.path, port)
				}
			}
		}
		c.hardened(a)
		if ctr.Resources.Requests.Cpu().IsZero() || ctr.Resources.Limits.Memory().IsZero() {
			c.errorf("%s: needs a cpu request and a memory limit", a)
		}
		// The Kubernetes API as its own ServiceAccount.
		if spec.AutomountServiceAccountToken == nil || !*spec.AutomountServiceAccountToken {
			c.errorf("%s: no service account token: it cannot reach the scale of %s", a, t)
		}
		if _, ok := c.o.serviceAccounts[spec.ServiceAccountName]; !ok {
			c.errorf("%s: ServiceAccount %q is not rendered", a, spec.ServiceAccountName)
		}
		accounts[spec.ServiceAccountName] = true
		res := strings.ToLower(kind) + "s"
		verbs := []string{"get", "update", "patch"}
		if as.DryRun {
			verbs = []string{"get"}
		}
		for _, v := range verbs {
			want[grant{"apps", res + "/scale", name, v}] = true
		}
		want[grant{"apps", res, name, "get"}] = true
		want[grant{"", "pods", "", "list"}] = true
	}
	got := map[grant]bool{}
	for _, rb := range c.o.roleBindings {
		bound := slices.ContainsFunc(rb.Subjects, func(s rbacv1.Subject) bool {
			return s.Kind == rbacv1.ServiceAccountKind && accounts[s.Name] && s.Namespace == namespace
		})
		if !bound {
			c.errorf("RoleBinding %s binds no autoscaler's ServiceAccount (in %s)", rb.Name, namespace)
			continue
		}
		if rb.RoleRef.Kind != "Role" || rb.RoleRef.APIGroup != rbacv1.GroupName {
			c.errorf("RoleBinding %s: binds %s %s, want a Role of the namespace", rb.Name, rb.RoleRef.Kind, rb.RoleRef.Name)
			continue
		}
		role, ok := c.o.roles[rb.RoleRef.Name]
		if !ok {
			c.errorf("RoleBinding %s: Role %s is not rendered", rb.Name, rb.RoleRef.Name)
			continue
		}
		for _, r := range role.Rules {
			if len(r.NonResourceURLs) > 0 {
				c.errorf("Role %s grants non-resource URLs %v", role.Name, r.NonResourceURLs)
			}
			names := r.ResourceNames
			if len(names) == 0 {
				names = []string{""}
			}
			for _, g := range r.APIGroups {
				for _, res := range r.Resources {
					for _, n := range names {
						for _, v := range r.Verbs {
							got[grant{g, res, n, v}] = true
						}
					}
				}
			}
		}
	}
	for g := range got {
		if !want[g] {
			c.errorf("the autoscalers' Role grants %s, which no autoscaler needs", g)
		}
	}
	for g := range want {
		if !got[g] {
			c.errorf("the autoscalers' Role lacks %s", g)
		}
	}
	for name := range c.o.roles {
		if !slices.ContainsFunc(c.o.roleBindings, func(rb *rbacv1.RoleBinding) bool { return rb.RoleRef.Name == name }) {
			c.errorf("Role %s is bound to nobody", name)
		}
	}
}

func portOfProbe(p *corev1.Probe) string {
	if p == nil || p.HTTPGet == nil {
		return ""
	}
	return p.HTTPGet.Port.String()
}

// metricsAPITriggerKeys are the metadata keys of KEDA's metrics-api
// scaler (pkg/scalers/metrics_api_scaler.go in v2.21) the chart may use,
// with those it requires.
var metricsAPITriggerKeys = map[string]bool{
	"url": true, "valueLocation": true, "targetValue": true, "activationTargetValue": false, "format": false, "unsafeSsl": false,
}

// decision checks a ScaledObject that scales w on the decision of sluice
// autoscale: its one trigger reads /api/v1/autoscale of the autoscaler that
// decides for w (through a Service of this namespace that reaches it), at
// desired_replicas with a target of 1 per replica.
func (c *checker) decision(so *scaledObject, w *workload) {
	a, ok := c.decidesFor[w]
	if !ok {
		c.errorf("ScaledObject %s: a metrics-api trigger, but no sluice autoscale decides for %s", so.Name, w)
		return
	}
	if len(so.Spec.Triggers) != 1 {
		c.errorf("ScaledObject %s: %d triggers; the decision of sluice autoscale must be the only one (KEDA follows the largest)", so.Name, len(so.Spec.Triggers))
	}
	md := so.Spec.Triggers[0].Metadata
	c.triggerKeys(so.Name, "metrics-api", md, metricsAPITriggerKeys)
	if md["valueLocation"] != "desired_replicas" || md["targetValue"] != "1" {
		c.errorf("ScaledObject %s: valueLocation %q targetValue %q, want desired_replicas and 1", so.Name, md["valueLocation"], md["targetValue"])
	}
	u, err := url.Parse(md["url"])
	if err != nil || u.Scheme != "http" || u.Path != "/api/v1/autoscale" {
		c.errorf("ScaledObject %s: url %q is not http://SERVICE…/api/v1/autoscale", so.Name, md["url"])
		return
	}
	svc, rest, _ := strings.Cut(u.Hostname(), ".")
	s, ok := c.o.services[svc]
	if !ok || !strings.HasPrefix(rest, namespace+".svc.") || !selects(s.Spec.Selector, a.w) {
		c.errorf("ScaledObject %s: url %q names no Service of %s in %s that selects %s", so.Name, md["url"], svc, namespace, a.w)
		return
	}
	_, listen, _ := net.SplitHostPort(a.cfg.Listen)
	for _, p := range s.Spec.Ports {
		if strconv.Itoa(int(p.Port)) == u.Port() {
			if cp, ok := a.w.containerPort(p.TargetPort.String(), corev1.ProtocolTCP); ok && strconv.Itoa(int(cp.ContainerPort)) == listen {
				return
			}
		}
	}
	c.errorf("ScaledObject %s: url %q reaches no port where %s serves (autoscale.listen %q)", so.Name, md["url"], a.w, a.cfg.Listen)
}
