package deploy

import (
	"encoding/base64"
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"

	"github.com/sluice-log/sluice/internal/config"
)

// Passwords given in values by the test cases: they must reach a Secret and
// never a ConfigMap.
const (
	kafkaPassword  = "kafka-pw-6d1c"
	searchPassword = "search-pw-93fa"
	searchAPIKey   = "search-key-2b7e"
	forwardKey     = "forward-key-51ad"
	forwardUserPW  = "forward-user-pw-c40e"
)

// chartCase is one way to install the chart.
type chartCase struct {
	name   string
	values string
	// Secrets the user creates beside the chart, with their keys.
	external map[string][]string
	// Roles of the configurations rendered, one per workload.
	roles []string
	kinds map[string]int
	// authOff: the values turn authentication off (auth.enabled false).
	authOff bool
}

// authSecret is the Secret of keys the user creates (auth.existingSecret),
// with the keys the values name by default.
var authSecret = map[string][]string{"sluice-auth": {"keys.json", "querier-api-key", "kafka-tenant-key"}}

var chartCases = []chartCase{
	{
		name:  "default: scale-out with two store replica groups and queriers",
		roles: []string{"gateway", "indexer", "indexer", "querier"},
		kinds: map[string]int{"Deployment": 2, "StatefulSet": 2, "ScaledObject": 2, "TriggerAuthentication": 0, "HorizontalPodAutoscaler": 1, "PodDisruptionBudget": 3, "Secret": 0, "ServiceMonitor": 0},
	},
	{
		name:     "authentication off: forward and syslog in plain text, ServiceMonitors on the HTTP port",
		values:   `auth: {enabled: false}` + "\n" + `receivers: {forward: {enabled: true}, syslog: {enabled: true}}` + "\n" + `serviceMonitor: {enabled: true}` + "\n" + `http: {tls: {secretName: sluice-tls}}`,
		external: map[string][]string{"sluice-tls": {"tls.crt", "tls.key"}},
		roles:    []string{"gateway", "indexer", "indexer", "querier"},
		kinds:    map[string]int{"Deployment": 2, "StatefulSet": 2, "ServiceMonitor": 3},
		authOff:  true,
	},
	{
		name:   "store indexers in fixed numbers, KEDA with Prometheus alone",
		values: `indexer: {keda: {enabled: false}, replicas: 3}` + "\n" + `keda: {kafkaTrigger: false}`,
		roles:  []string{"gateway", "indexer", "indexer", "querier"},
		kinds:  map[string]int{"StatefulSet": 2, "ScaledObject": 0, "HorizontalPodAutoscaler": 1},
	},
	{
		name:   "single node",
		values: `mode: single`,
		roles:  []string{"all"},
		kinds:  map[string]int{"Deployment": 0, "StatefulSet": 1, "ScaledObject": 0, "PodDisruptionBudget": 0, "Service": 2},
	},
	{
		name: "single node with HTTPS, syslog TLS, ServiceMonitor, receivers trimmed",
		values: `
mode: single
http: {tls: {secretName: sluice-tls}}
receivers: {syslog: {enabled: true, tlsSecretName: syslog-tls}, otlp: {enabled: false}, forward: {enabled: false}}
serviceMonitor: {enabled: true, labels: {release: prometheus}}
# The chart's settings win over config, false included.
config: {store: {retention: 14d}, forward: {enabled: true}, http: {addr: "127.0.0.1:9280"}}
single: {config: {memory_limit: 1GiB}}`,
		external: map[string][]string{"sluice-tls": {"tls.crt", "tls.key"}, "syslog-tls": {"tls.crt", "tls.key", "ca.crt"}},
		roles:    []string{"all"},
		kinds:    map[string]int{"StatefulSet": 1, "ServiceMonitor": 1},
	},
	{
		name: "scale-out with SASL, Elasticsearch indexers, HTTPS, ServiceMonitors, three groups, fixed replicas",
		values: `
kafka: {brokers: [k1:9093, k2:9093], tls: true, username: sluice, password: ` + kafkaPassword + `}
searchIndexer: {enabled: true, type: elasticsearch, addresses: [https://es:9200], username: elastic, password: ` + searchPassword + `, apiKey: ` + searchAPIKey + `}
http: {tls: {secretName: sluice-tls}, shutdownTimeoutSeconds: 45}
receivers: {syslog: {enabled: true, tlsSecretName: syslog-tls}}
serviceMonitor: {enabled: true}
gateway: {autoscaling: {enabled: false}, replicas: 3}
indexer:
  keda: {enabled: false}
  replicas: 3
  groups: [{name: a, consumerGroup: idx-a}, {name: b, consumerGroup: idx-b}, {name: c, consumerGroup: idx-c}]
  config: {store: {retention: 7d}}`,
		external: map[string][]string{"sluice-tls": {"tls.crt", "tls.key"}, "syslog-tls": {"tls.crt", "tls.key", "ca.crt"}},
		roles:    []string{"gateway", "indexer", "indexer", "indexer", "indexer", "querier"},
		kinds:    map[string]int{"Deployment": 3, "StatefulSet": 3, "ScaledObject": 1, "TriggerAuthentication": 1, "HorizontalPodAutoscaler": 0, "PodDisruptionBudget": 4, "Secret": 1, "ServiceMonitor": 4},
	},
	{
		name: "Elasticsearch indexers only, passwords in existing Secrets, long release-proof names",
		values: `
fullnameOverride: a-fairly-long-name-for-a-sluice-release-x
kafka: {username: sluice, existingSecret: kafka-creds, passwordKey: password}
indexer: {enabled: false}
searchIndexer: {enabled: true, existingSecret: es-creds, passwordKey: password, username: elastic}`,
		external: map[string][]string{"kafka-creds": {"password"}, "es-creds": {"password"}},
		roles:    []string{"gateway", "indexer"},
		kinds:    map[string]int{"Deployment": 2, "StatefulSet": 0, "ScaledObject": 1, "TriggerAuthentication": 1, "Secret": 1},
	},
	{
		name: "single node with forward users, their passwords in the chart's Secret",
		values: `
mode: single
receivers: {forward: {enabled: true, sharedKey: ` + forwardKey + `, users: [{username: acme-fluentd, tenant: acme, password: ` + forwardUserPW + `}, {username: beta-fluentd, tenant: beta, password: ` + forwardUserPW + `-2}]}}`,
		roles: []string{"all"},
		kinds: map[string]int{"StatefulSet": 1, "Secret": 1},
	},
	{
		name: "scale-out with forward users, their passwords in a Secret of the user's",
		values: `
receivers: {forward: {enabled: true, existingSecret: fluentd-creds, sharedKeyKey: shared, users: [{username: acme-fluentd, tenant: acme, passwordKey: acme}, {username: beta-fluentd, tenant: beta}]}}`,
		external: map[string][]string{"fluentd-creds": {"shared", "acme", "forward-user-1"}},
		roles:    []string{"gateway", "indexer", "indexer", "querier"},
		kinds:    map[string]int{"Deployment": 2, "Secret": 0},
	},
	{
		name: "sluice autoscale scaling the store and search indexers, Kafka with SASL",
		values: `
autoscaler: {enabled: true, config: {autoscale: {drain_target: 2m}}}
kafka: {username: sluice, password: ` + kafkaPassword + `}
searchIndexer: {enabled: true}`,
		roles: []string{"gateway", "indexer", "indexer", "indexer", "querier"},
		kinds: map[string]int{"Deployment": 6, "StatefulSet": 2, "ScaledObject": 0, "TriggerAuthentication": 0, "ServiceAccount": 1, "Role": 1, "RoleBinding": 1, "Secret": 1},
	},
	{
		name:   "sluice autoscale deciding, KEDA scaling on its decision",
		values: `autoscaler: {enabled: true, mode: keda}`,
		roles:  []string{"gateway", "indexer", "indexer", "querier"},
		kinds:  map[string]int{"Deployment": 4, "StatefulSet": 2, "ScaledObject": 2, "ServiceAccount": 1, "Role": 1, "RoleBinding": 1},
	},
}

// TestChart lints the chart and renders it for each case as `helm lint
// --strict` and `helm template` would, decodes every document strictly into
// its Kubernetes type and checks that the documents agree with each other
// and with Sluice's own configuration parser.
func TestChart(t *testing.T) {
	for _, tc := range chartCases {
		t.Run(tc.name, func(t *testing.T) {
			var values map[string]any
			if err := yaml.Unmarshal([]byte(tc.values), &values); err != nil {
				t.Fatal(err)
			}
			helmLint(t, values)
			docs, err := helmTemplate(values)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range check(docs, tc.external, !tc.authOff) {
				t.Error(e)
			}
			o, err := decode(docs)
			if err != nil {
				t.Fatal(err)
			}
			for kind, n := range tc.kinds {
				if o.kinds[kind] != n {
					t.Errorf("%d %s, want %d", o.kinds[kind], kind, n)
				}
			}
			var roles []string
			for _, w := range o.workloads {
				roles = append(roles, (&checker{o: o}).rawConfig(w).Role)
			}
			slices.Sort(roles)
			if !slices.Equal(roles, tc.roles) {
				t.Errorf("roles %v, want %v", roles, tc.roles)
			}
		})
	}
}

// TestChartRefusesBadValues checks values.schema.json: a typo or a wrong
// type fails `helm template` instead of rendering something else.
func TestChartRefusesBadValues(t *testing.T) {
	tests := []struct{ values, want string }{
		{`mode: cluster`, "mode"},
		{`gateway: {replica: 3}`, "replica"},
		{`indexer: {groups: [{name: A, consumerGroup: g}]}`, "name"},
		{`indexer: {groups: [{name: a}]}`, "consumerGroup"},
		{`indexer: {groups: []}`, "groups"},
		{`http: {port: "9280"}`, "port"},
		{`searchIndexer: {type: solr}`, "type"},
		{`auth: {existingSecret: ""}`, "existingSecret"},
		{`receivers: {syslog: {enabled: true}}`, "tlsSecretName"},
		{`receivers: {forward: {enabled: true}}`, "users"},
		{`receivers: {forward: {enabled: true, users: [{username: u, tenant: t, password: p}]}}`, "sharedKey"},
		{`receivers: {forward: {enabled: true, sharedKey: k, users: [{username: u, tenant: t}]}}`, "needs a password"},
		{`receivers: {forward: {enabled: true, sharedKey: k, users: [{username: u, password: p}]}}`, "tenant"},
		{`autoscaler: {enabled: true, mode: fast}`, "mode"},
		{`autoscaler: {enabled: true, mode: keda, replicas: 2}`, "replicas"},
		{`{autoscaler: {enabled: true, mode: keda}, indexer: {keda: {enabled: false}}}`, "has no KEDA ScaledObject"},
	}
	for _, tt := range tests {
		var values map[string]any
		if err := yaml.Unmarshal([]byte(tt.values), &values); err != nil {
			t.Fatal(err)
		}
		if _, err := helmTemplate(values); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one naming %q", tt.values, err, tt.want)
		}
	}
}

// checker collects what is wrong with one rendering.
type checker struct {
	o        *objects
	external map[string][]string
	wantAuth bool
	errs     []string
	// scaledBy maps an indexer workload to the sluice autoscale that sets
	// its replicas, decidesFor to the one that only decides (for KEDA).
	scaledBy, decidesFor map[*workload]autoscaler
}

// autoscaler is one sluice autoscale Deployment and its configuration.
type autoscaler struct {
	w   *workload
	cfg config.AutoscaleConfig
}

func (c *checker) errorf(format string, args ...any) {
	c.errs = append(c.errs, fmt.Sprintf(format, args...))
}

// soleContainer is w's one container, the sluice binary: every pod the
// chart renders has exactly one.
func (c *checker) soleContainer(w *workload) (corev1.Container, bool) {
	if n := len(w.pod.Spec.Containers); n != 1 {
		c.errorf("%s: %d containers, want the one sluice container", w, n)
		return corev1.Container{}, false
	}
	return w.pod.Spec.Containers[0], true
}

// check runs every check over a rendering and returns what is wrong.
func check(docs []manifest, external map[string][]string, wantAuth bool) []string {
	o, err := decode(docs)
	if err != nil {
		return []string{err.Error()}
	}
	all := maps.Clone(external)
	if all == nil {
		all = map[string][]string{}
	}
	maps.Copy(all, authSecret)
	c := &checker{o: o, external: all, wantAuth: wantAuth}
	c.names()
	c.services()
	c.pods()
	c.autoscaleControllers() // before configs: the querier's indexers depend on it
	c.configs()
	c.autoscalers()
	c.budgets()
	c.monitors()
	c.noPasswordsInConfigMaps(docs)
	return c.errs
}

// names: object names, labels and port names the API server would accept.
func (c *checker) names() {
	check := func(what, name string, errs []string) {
		for _, e := range errs {
			c.errorf("%s %q: %s", what, name, e)
		}
	}
	meta := func(what string, m metav1.ObjectMeta) {
		check(what, m.Name, validation.IsDNS1123Subdomain(m.Name))
		for _, e := range metavalidation.ValidateLabels(m.Labels, field.NewPath("labels")) {
			c.errorf("%s %q: %v", what, m.Name, e)
		}
	}
	for _, s := range c.o.services {
		meta("Service", s.ObjectMeta)
		check("Service", s.Name, validation.IsDNS1035Label(s.Name))
		for _, p := range s.Spec.Ports {
			check("Service "+s.Name+" port", p.Name, validation.IsValidPortName(p.Name))
		}
	}
	for _, m := range c.o.configMaps {
		meta("ConfigMap", m.ObjectMeta)
	}
	for _, w := range c.o.workloads {
		check(w.kind, w.name, validation.IsDNS1123Label(w.name))
		// A StatefulSet's pods carry controller-revision-hash=<name>-<10
		// characters>, a label value of at most 63.
		if w.kind == "StatefulSet" && len(w.name) > 52 {
			c.errorf("%s: name longer than 52 characters", w)
		}
		for _, e := range metavalidation.ValidateLabels(w.pod.Labels, field.NewPath("labels")) {
			c.errorf("%s pod: %v", w, e)
		}
		for _, p := range w.pod.Spec.Containers[0].Ports {
			check(w.String()+" port", p.Name, validation.IsValidPortName(p.Name))
		}
	}
}

// services: every Service selects pods, and each of its ports reaches a
// container port of the same protocol on every pod it selects; a
// StatefulSet's governing Service is headless and selects its pods.
func (c *checker) services() {
	for _, s := range c.o.services {
		ws := c.o.selected(s.Spec.Selector)
		if len(ws) == 0 {
			c.errorf("Service %s selects no pods (%v)", s.Name, s.Spec.Selector)
		}
		for _, w := range ws {
			for _, p := range s.Spec.Ports {
				if _, ok := w.containerPort(p.TargetPort.String(), p.Protocol); !ok {
					c.errorf("Service %s port %s: %s has no %s container port %s", s.Name, p.Name, w, p.Protocol, p.TargetPort.String())
				}
			}
		}
	}
	for _, w := range c.o.workloads {
		if !selectorMatchesTemplate(w) {
			c.errorf("%s: selector %v does not match its pod labels %v", w, w.selector.MatchLabels, w.pod.Labels)
		}
		if w.kind != "StatefulSet" {
			continue
		}
		s, ok := c.o.services[w.serviceName]
		switch {
		case !ok:
			c.errorf("%s: serviceName %q is no Service of the chart", w, w.serviceName)
		case s.Spec.ClusterIP != corev1.ClusterIPNone || !selects(s.Spec.Selector, w):
			c.errorf("%s: Service %s must be headless and select its pods", w, s.Name)
		}
	}
}

func selectorMatchesTemplate(w *workload) bool {
	return w.selector != nil && len(w.selector.MatchExpressions) == 0 && selects(w.selector.MatchLabels, w)
}

// pods: probes on real ports, volumes that exist, Secrets and ConfigMaps
// that exist with the keys used, the security context and resources every
// pod must have.
func (c *checker) pods() {
	for _, w := range c.o.workloads {
		spec := w.pod.Spec
		ctr, ok := c.soleContainer(w)
		if !ok {
			continue
		}
		for name, p := range map[string]*corev1.Probe{"startup": ctr.StartupProbe, "liveness": ctr.LivenessProbe, "readiness": ctr.ReadinessProbe} {
			if p == nil || p.HTTPGet == nil {
				c.errorf("%s: no %s probe over HTTP", w, name)
				continue
			}
			if _, ok := w.containerPort(p.HTTPGet.Port.String(), corev1.ProtocolTCP); !ok {
				c.errorf("%s: %s probe on port %s, which the container does not have", w, name, p.HTTPGet.Port.String())
			}
			want := map[string]string{"startup": "/healthz", "liveness": "/healthz", "readiness": "/readyz"}[name]
			if p.HTTPGet.Path != want {
				c.errorf("%s: %s probe asks %s, want %s", w, name, p.HTTPGet.Path, want)
			}
		}
		mounted := map[string]bool{}
		for _, m := range ctr.VolumeMounts {
			if _, ok := w.volume(m.Name); !ok && !w.hasClaim(m.Name) {
				c.errorf("%s: mount %s names no volume", w, m.Name)
			}
			mounted[m.Name] = true
		}
		for _, v := range spec.Volumes {
			if !mounted[v.Name] {
				c.errorf("%s: volume %s is never mounted", w, v.Name)
			}
			c.volumeSources(w, v)
		}
		// Security: the image's unprivileged user, nothing writable but
		// the volumes, no capabilities, no API token.
		c.hardened(w)
		if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
			c.errorf("%s: mounts a service account token it does not need", w)
		}
		if ctr.Resources.Requests.Cpu().IsZero() || ctr.Resources.Requests.Memory().IsZero() || ctr.Resources.Limits.Memory().IsZero() {
			c.errorf("%s: needs cpu and memory requests and a memory limit", w)
		}
		if ctr.Lifecycle == nil || ctr.Lifecycle.PreStop == nil || ctr.Lifecycle.PreStop.Sleep == nil {
			c.errorf("%s: no preStop sleep", w)
		}
		c.args(w, ctr)
	}
}

// hardened: w runs as the image's unprivileged user, with nothing writable
// but its volumes and no capabilities.
func (c *checker) hardened(w *workload) {
	psc, sc := w.pod.Spec.SecurityContext, w.pod.Spec.Containers[0].SecurityContext
	if psc == nil || sc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser != 65532 ||
		sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
		c.errorf("%s: must run as 65532, non-root, read-only root filesystem, no privilege escalation, all capabilities dropped", w)
	}
}

// args: the command line is `serve` with flags `sluice serve` has, and
// every $(VAR) in it is an environment variable of the container (the
// kubelet leaves an unknown one as it is).
func (c *checker) args(w *workload, ctr corev1.Container) {
	if len(ctr.Args) == 0 || ctr.Args[0] != "serve" {
		c.errorf("%s: args %q: want serve …", w, ctr.Args)
		return
	}
	for _, a := range ctr.Args[1:] {
		if name, ok := strings.CutPrefix(a, "--"); ok && !serveFlags[name] {
			c.errorf("%s: sluice serve has no flag --%s", w, name)
		}
		for _, m := range envRef.FindAllStringSubmatch(a, -1) {
			if !slices.ContainsFunc(ctr.Env, func(e corev1.EnvVar) bool { return e.Name == m[1] }) {
				c.errorf("%s: args use $(%s), which is no environment variable", w, m[1])
			}
		}
	}
}

// envRef is a $(VAR) reference the kubelet expands in args.
var envRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// serveFlags are the flags `sluice serve` declares (fs.String("name", …)
// in cmd/sluice/serve.go).
var serveFlags = func() map[string]bool {
	b, err := os.ReadFile(filepath.Join(repoRoot, "cmd/sluice/serve.go"))
	if err != nil {
		panic(err)
	}
	flags := map[string]bool{}
	for _, m := range regexp.MustCompile(`fs\.\w+\("([a-z-]+)"`).FindAllSubmatch(b, -1) {
		flags[string(m[1])] = true
	}
	return flags
}()

func (c *checker) volumeSources(w *workload, v corev1.Volume) {
	switch {
	case v.ConfigMap != nil:
		cm, ok := c.o.configMaps[v.ConfigMap.Name]
		if !ok {
			c.errorf("%s: volume %s: no ConfigMap %s", w, v.Name, v.ConfigMap.Name)
		} else if _, ok := cm.Data["sluice.yaml"]; !ok {
			c.errorf("%s: ConfigMap %s has no sluice.yaml", w, cm.Name)
		}
	case v.Secret != nil:
		c.secretKeys(w, v.Secret.SecretName, v.Secret.Items)
	case v.Projected != nil:
		for _, src := range v.Projected.Sources {
			if src.Secret == nil {
				c.errorf("%s: projected volume %s: only Secrets expected", w, v.Name)
				continue
			}
			c.secretKeys(w, src.Secret.Name, src.Secret.Items)
		}
	}
}

// secretKeys checks that a Secret exists (rendered, or one the user
// creates) with the keys a volume takes from it.
func (c *checker) secretKeys(w *workload, name string, items []corev1.KeyToPath) {
	var keys []string
	if s, ok := c.o.secrets[name]; ok {
		for k, v := range s.Data {
			if len(v) == 0 {
				c.errorf("Secret %s: key %s is empty", name, k)
			}
			keys = append(keys, k)
		}
	} else if ext, ok := c.external[name]; ok {
		keys = ext
	} else {
		c.errorf("%s: Secret %s is neither rendered nor one the values name", w, name)
		return
	}
	for _, it := range items {
		if !slices.Contains(keys, it.Key) {
			c.errorf("%s: Secret %s has no key %s", w, name, it.Key)
		}
	}
}

// configs parses every pod's configuration with Sluice's own parser (as
// `sluice config check` does: unknown keys and invalid values fail) and
// checks it against the pod: role, listeners on every interface with a
// port and a Service port each, probes' scheme and port, files of secrets
// and certificates mounted, the data directory on a volume, the grace
// period, and the querier's indexers.
func (c *checker) configs() {
	groups := map[string]string{} // consumer group → workload
	for _, w := range c.o.workloads {
		cfg, ok := c.config(w)
		if !ok {
			continue
		}
		if label := w.pod.Labels["app.kubernetes.io/component"]; roleOf(label) != cfg.Role {
			c.errorf("%s: component %s runs role %s", w, label, cfg.Role)
		}
		ctr := w.pod.Spec.Containers[0]
		if cfg.Role == config.RoleIndexer && w.kind == "StatefulSet" && !staticMember(ctr) {
			c.errorf("%s: a store indexer without --kafka-instance-id $(POD_NAME) from metadata.name: a restart would rebalance its partitions", w)
		}
		if cfg.Role == config.RoleIndexer {
			if other, dup := groups[cfg.Kafka.ConsumerGroup]; dup {
				c.errorf("%s and %s share consumer group %s: they would split the partitions, not copy them", w, other, cfg.Kafka.ConsumerGroup)
			}
			groups[cfg.Kafka.ConsumerGroup] = w.String()
		}

		// HTTP: the probes' port and scheme.
		httpPort := c.listenPort(w, "http.addr", cfg.HTTP.Addr, corev1.ProtocolTCP)
		scheme := corev1.URISchemeHTTP
		if cfg.HTTP.TLSCertFile != "" {
			scheme = corev1.URISchemeHTTPS
		}
		for _, p := range []*corev1.Probe{ctr.StartupProbe, ctr.LivenessProbe, ctr.ReadinessProbe} {
			if p == nil || p.HTTPGet == nil {
				continue
			}
			if cp, ok := w.containerPort(p.HTTPGet.Port.String(), corev1.ProtocolTCP); ok && cp.ContainerPort != httpPort {
				c.errorf("%s: probe on %d, server on %d", w, cp.ContainerPort, httpPort)
			}
			if p.HTTPGet.Scheme != scheme {
				c.errorf("%s: probe scheme %s, server speaks %s", w, p.HTTPGet.Scheme, scheme)
			}
		}

		// Receivers: on every interface of the pod, exposed by a Service.
		if cfg.Role == config.RoleGateway || cfg.Role == config.RoleAll {
			type listener struct {
				option, addr string
				proto        corev1.Protocol
				on           bool
			}
			for _, l := range []listener{
				{"forward.addr", cfg.Forward.Addr, corev1.ProtocolTCP, cfg.Forward.Enabled},
				{"forward.addr (UDP heartbeat)", cfg.Forward.Addr, corev1.ProtocolUDP, cfg.Forward.Enabled},
				{"syslog.tcp_addr", cfg.Syslog.TCPAddr, corev1.ProtocolTCP, cfg.Syslog.Enabled && cfg.Syslog.TCPAddr != ""},
				{"syslog.udp_addr", cfg.Syslog.UDPAddr, corev1.ProtocolUDP, cfg.Syslog.Enabled && cfg.Syslog.UDPAddr != ""},
				{"syslog.tls_addr", cfg.Syslog.TLSAddr, corev1.ProtocolTCP, cfg.Syslog.Enabled && cfg.Syslog.TLS.Enabled()},
				{"otlp.grpc_addr", cfg.OTLP.GRPCAddr, corev1.ProtocolTCP, cfg.OTLP.Enabled && cfg.OTLP.GRPCAddr != ""},
			} {
				if l.on {
					c.listenPort(w, l.option, l.addr, l.proto)
				}
			}
		}

		// Authentication: on unless the values turn it off, the keys file
		// (and the querier's key, the Kafka tenant signing key) from the
		// Secret on a volume the kubelet updates, /metrics without a key on
		// a port of its own.
		c.auth(w, cfg)

		// Files the server reads: secrets, certificates, the data directory.
		for option, path := range map[string]string{
			"kafka.password_file":              cfg.Kafka.PasswordFile,
			"sink.elasticsearch.password_file": cfg.Sink.Elasticsearch.PasswordFile,
			"sink.elasticsearch.api_key_file":  cfg.Sink.Elasticsearch.APIKeyFile,
			"http.tls_cert_file":               cfg.HTTP.TLSCertFile,
			"http.tls_key_file":                cfg.HTTP.TLSKeyFile,
			"syslog.tls.cert_file":             cfg.Syslog.TLS.CertFile,
			"syslog.tls.key_file":              cfg.Syslog.TLS.KeyFile,
			"syslog.tls.client_ca_file":        cfg.Syslog.TLS.ClientCAFile,
			"forward.shared_key_file":          cfg.Forward.SharedKeyFile,
		} {
			if path != "" {
				c.mountedFile(w, option, path)
			}
		}
		for _, u := range cfg.Forward.Users {
			if u.PasswordFile != "" {
				c.mountedFile(w, fmt.Sprintf("forward.users[%q].password_file", u.Username), u.PasswordFile)
			} else if u.Password != "" {
				c.errorf("%s: forward.users[%q].password is in the ConfigMap", w, u.Username)
			}
		}
		if m, _, ok := w.mountOf(cfg.DataDir); !ok || m.ReadOnly {
			c.errorf("%s: data_dir %s is not on a writable volume", w, cfg.DataDir)
		} else if (cfg.Role == config.RoleAll || (cfg.Role == config.RoleIndexer && cfg.Sink.Type == "store")) && !w.hasClaim(m.Name) {
			c.errorf("%s: the store's data_dir %s is not on a persistent volume claim", w, cfg.DataDir)
		}

		// A graceful stop: preStop, then shutdown_timeout for running
		// requests, then the final flush, within the grace period.
		grace := time.Duration(*w.pod.Spec.TerminationGracePeriodSeconds) * time.Second
		preStop := time.Duration(0)
		if ctr.Lifecycle != nil && ctr.Lifecycle.PreStop != nil && ctr.Lifecycle.PreStop.Sleep != nil {
			preStop = time.Duration(ctr.Lifecycle.PreStop.Sleep.Seconds) * time.Second
		}
		if shutdown := time.Duration(cfg.HTTP.ShutdownTimeout); grace < preStop+shutdown+10*time.Second {
			c.errorf("%s: terminationGracePeriodSeconds %v leaves no time to flush after preStop %v and http.shutdown_timeout %v", w, grace, preStop, shutdown)
		}

		if cfg.Role == roleQuerier {
			c.querierIndexers(w, c.rawConfig(w).Querier.Indexers)
		}
	}
}

func (c *checker) auth(w *workload, cfg config.Config) {
	if !cfg.Auth.Enabled {
		if c.wantAuth {
			c.errorf("%s: auth is off (auth.enabled)", w)
		}
		return
	}
	c.mountedFile(w, "auth.keys_file", cfg.Auth.KeysFile)
	if m, _, ok := w.mountOf(cfg.Auth.KeysFile); ok && m.SubPath != "" {
		c.errorf("%s: auth.keys_file %s is mounted with subPath: the kubelet would never update it", w, cfg.Auth.KeysFile)
	}
	if cfg.Role == config.RoleQuerier {
		if cfg.Querier.APIKeyFile == "" {
			c.errorf("%s: a querier without querier.api_key_file cannot read the indexers' status", w)
		} else {
			c.mountedFile(w, "querier.api_key_file", cfg.Querier.APIKeyFile)
		}
	}
	if cfg.Kafka.TenantSigningKeyFile != "" {
		c.mountedFile(w, "kafka.tenant_signing_key_file", cfg.Kafka.TenantSigningKeyFile)
	} else if cfg.Role == config.RoleGateway || cfg.Role == config.RoleIndexer {
		c.errorf("%s: Kafka messages' tenants are not signed (kafka.tenant_signing_key_file)", w)
	}
	if cfg.Role == config.RoleQuerier && len(cfg.Kafka.Brokers) == 0 {
		c.errorf("%s: a querier without kafka.brokers keeps its audit events in its log only", w)
	}
	if cfg.HTTP.MetricsAddr == "" {
		c.errorf("%s: with auth, /metrics needs a key unless http.metrics_addr is set", w)
	} else {
		c.listenPort(w, "http.metrics_addr", cfg.HTTP.MetricsAddr, corev1.ProtocolTCP)
	}
}

// staticMember reports whether the container joins its consumer group as
// its pod's name.
func staticMember(ctr corev1.Container) bool {
	i := slices.Index(ctr.Args, "--kafka-instance-id")
	if i < 0 || i+1 >= len(ctr.Args) || ctr.Args[i+1] != "$(POD_NAME)" {
		return false
	}
	return slices.ContainsFunc(ctr.Env, func(e corev1.EnvVar) bool {
		return e.Name == "POD_NAME" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name"
	})
}

// roleQuerier is config.RoleQuerier, named here so that these tests read
// querier.indexers from the file as the chart wrote it (rawConfig).
const roleQuerier = "querier"

// rawConfig is what these tests read of a configuration file besides
// config.Parse.
type rawConfig struct {
	Role    string `json:"role"`
	Querier struct {
		Indexers []string `json:"indexers"`
	} `json:"querier"`
}

func (c *checker) rawConfig(w *workload) rawConfig {
	var raw rawConfig
	for _, v := range w.pod.Spec.Volumes {
		if v.ConfigMap != nil {
			if err := yaml.Unmarshal([]byte(c.o.configMaps[v.ConfigMap.Name].Data["sluice.yaml"]), &raw); err != nil {
				c.errorf("%s: %v", w, err)
			}
		}
	}
	return raw
}

// roleOf maps a component label to the role its configuration must have.
func roleOf(component string) string {
	if component == "search-indexer" {
		return config.RoleIndexer
	}
	return component
}

// config reads w's configuration file from its ConfigMap, where the pod
// mounts it as the file its command line names.
func (c *checker) config(w *workload) (config.Config, bool) {
	args := w.pod.Spec.Containers[0].Args
	i := slices.Index(args, "--config")
	if len(args) < 1 || args[0] != "serve" || i < 0 || i+1 >= len(args) {
		c.errorf("%s: args %q: want serve --config FILE", w, args)
		return config.Config{}, false
	}
	return c.configFile(w, args[i+1])
}

// configFile parses the configuration file at path in w's container, from
// the ConfigMap mounted there.
func (c *checker) configFile(w *workload, path string) (config.Config, bool) {
	m, rest, ok := w.mountOf(path)
	v, vok := w.volume(m.Name)
	if !ok || !vok || v.ConfigMap == nil || (m.SubPath != "" && rest != "") {
		c.errorf("%s: %s is not mounted from a ConfigMap", w, path)
		return config.Config{}, false
	}
	key := m.SubPath
	if key == "" {
		key = rest
	}
	cm, ok := c.o.configMaps[v.ConfigMap.Name]
	if !ok {
		return config.Config{}, false // reported by pods()
	}
	cfg, err := config.Parse(strings.NewReader(cm.Data[key]))
	if err != nil {
		c.errorf("%s: ConfigMap %s key %s: %v", w, cm.Name, key, err)
		return config.Config{}, false
	}
	return cfg, true
}

// listenPort checks that addr listens on every interface of the pod, on a
// container port of that protocol that a Service exposes, and returns it.
func (c *checker) listenPort(w *workload, option, addr string, proto corev1.Protocol) int32 {
	host, p, err := net.SplitHostPort(addr)
	port, perr := strconv.Atoi(p)
	if err != nil || perr != nil {
		c.errorf("%s: %s %q: not host:port", w, option, addr)
		return 0
	}
	if host != "" && host != "0.0.0.0" && host != "::" {
		c.errorf("%s: %s %q listens on %s only, not on the pod's interfaces", w, option, addr, host)
	}
	cp, ok := w.containerPort(p, proto)
	if !ok {
		c.errorf("%s: %s listens on %s %d, which is no container port", w, option, proto, port)
		return int32(port)
	}
	for _, s := range c.o.services {
		if !selects(s.Spec.Selector, w) {
			continue
		}
		for _, sp := range s.Spec.Ports {
			if sp.Protocol == proto && (sp.TargetPort.String() == cp.Name || sp.TargetPort.IntValue() == port) {
				return int32(port)
			}
		}
	}
	c.errorf("%s: %s (%s %d) is exposed by no Service", w, option, proto, port)
	return int32(port)
}

// mountedFile checks that path is a file the pod mounts: a key of a Secret
// (or ConfigMap) volume, projected items included.
func (c *checker) mountedFile(w *workload, option, path string) {
	m, rest, ok := w.mountOf(path)
	if !ok {
		c.errorf("%s: %s %s is on no volume", w, option, path)
		return
	}
	v, _ := w.volume(m.Name)
	var items []corev1.KeyToPath
	var secret string
	switch {
	case v.Secret != nil:
		secret, items = v.Secret.SecretName, v.Secret.Items
	case v.Projected != nil:
		for _, src := range v.Projected.Sources {
			if src.Secret != nil {
				items = append(items, src.Secret.Items...)
			}
		}
	default:
		c.errorf("%s: %s %s is on volume %s, which is no Secret", w, option, path, m.Name)
		return
	}
	if len(items) == 0 { // the whole Secret: a key per file
		keys := c.external[secret]
		if s, ok := c.o.secrets[secret]; ok {
			keys = nil
			for k := range s.Data {
				keys = append(keys, k)
			}
		}
		if !slices.Contains(keys, rest) {
			c.errorf("%s: %s %s: Secret %s has no key %s", w, option, path, secret, rest)
		}
		return
	}
	if !slices.ContainsFunc(items, func(it corev1.KeyToPath) bool { return it.Path == rest }) {
		c.errorf("%s: %s %s: volume %s has no item %s", w, option, path, m.Name, rest)
	}
}

// querierIndexers checks that the querier names, for every store indexer
// StatefulSet, its pods' DNS names in its headless Service: as many as the
// StatefulSet has replicas, or the most KEDA may give it.
func (c *checker) querierIndexers(w *workload, indexers []string) {
	want := map[string]bool{}
	for _, sts := range c.o.workloads {
		if sts.kind != "StatefulSet" || sts.pod.Labels["app.kubernetes.io/component"] != "indexer" {
			continue
		}
		n := int32(1)
		if sts.replicas != nil {
			n = *sts.replicas
		}
		for _, so := range c.o.scaledObjects {
			if so.Spec.ScaleTargetRef.Kind == sts.kind && so.Spec.ScaleTargetRef.Name == sts.name && so.Spec.MaxReplicaCount != nil {
				n = *so.Spec.MaxReplicaCount
			}
		}
		if a, ok := c.scaledBy[sts]; ok {
			n = int32(a.cfg.MaxReplicas)
		}
		port := c.servicePort(sts.serviceName, "http")
		for i := range n {
			want[fmt.Sprintf("http://%s-%d.%s.%s.svc.cluster.local:%d", sts.name, i, sts.serviceName, namespace, port)] = true
		}
	}
	if len(want) == 0 {
		c.errorf("%s: a querier without store indexers", w)
	}
	for _, u := range indexers {
		if _, err := url.Parse(u); err != nil || !want[u] {
			c.errorf("%s: querier.indexers has %s, which is no store indexer pod", w, u)
		}
		delete(want, u)
	}
	for u := range want {
		c.errorf("%s: querier.indexers lacks %s", w, u)
	}
}

// servicePortNumber is the container port a Service's named port reaches
// (its target port when numeric, else its port).
func (c *checker) servicePortNumber(service, name string) int32 {
	if s, ok := c.o.services[service]; ok {
		for _, p := range s.Spec.Ports {
			if p.Name == name {
				if p.TargetPort.IntValue() > 0 {
					return int32(p.TargetPort.IntValue())
				}
				for _, w := range c.o.selected(s.Spec.Selector) {
					if cp, ok := w.containerPort(p.TargetPort.String(), p.Protocol); ok {
						return cp.ContainerPort
					}
				}
				return p.Port
			}
		}
	}
	return 0
}

func (c *checker) servicePort(service, name string) int32 {
	if s, ok := c.o.services[service]; ok {
		for _, p := range s.Spec.Ports {
			if p.Name == name {
				return p.Port
			}
		}
	}
	c.errorf("Service %s has no port %s", service, name)
	return 0
}

// autoscalers: HPAs and KEDA ScaledObjects name a workload of the chart
// that leaves its replicas to them, and KEDA scales store and search
// indexers on their own consumer group's lag as the indexers export it.
func (c *checker) autoscalers() {
	scaled := map[*workload]string{}
	for w, a := range c.scaledBy {
		scaled[w] = "sluice autoscale " + a.w.name
	}
	for _, h := range c.o.hpas {
		ref := h.Spec.ScaleTargetRef
		w := c.target("HPA "+h.Name, ref.APIVersion, ref.Kind, ref.Name)
		if w == nil {
			continue
		}
		scaled[w] = "HPA " + h.Name
		if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas > h.Spec.MaxReplicas || len(h.Spec.Metrics) == 0 {
			c.errorf("HPA %s: needs min <= max and a metric", h.Name)
		}
		for _, m := range h.Spec.Metrics {
			if m.Resource != nil && m.Resource.Name == corev1.ResourceCPU && w.pod.Spec.Containers[0].Resources.Requests.Cpu().IsZero() {
				c.errorf("HPA %s: scales on CPU utilisation of pods without a CPU request", h.Name)
			}
		}
	}
	for _, so := range c.o.scaledObjects {
		ref := so.Spec.ScaleTargetRef
		w := c.target("ScaledObject "+so.Name, ref.APIVersion, ref.Kind, ref.Name)
		if w == nil {
			continue
		}
		if other, dup := scaled[w]; dup {
			c.errorf("ScaledObject %s and %s both scale %s", so.Name, other, w)
		}
		scaled[w] = "ScaledObject " + so.Name
		if so.Spec.MinReplicaCount == nil || so.Spec.MaxReplicaCount == nil || *so.Spec.MinReplicaCount > *so.Spec.MaxReplicaCount || *so.Spec.MinReplicaCount < 1 {
			c.errorf("ScaledObject %s: needs 1 <= minReplicaCount <= maxReplicaCount", so.Name)
		}
		cfg, ok := c.config(w)
		if !ok || cfg.Role != config.RoleIndexer {
			c.errorf("ScaledObject %s scales %s, which is no indexer", so.Name, w)
			continue
		}
		if len(so.Spec.Triggers) > 0 && so.Spec.Triggers[0].Type == "metrics-api" {
			c.decision(so, w)
			continue
		}
		if a, ok := c.decidesFor[w]; ok {
			c.errorf("ScaledObject %s scales %s on the lag while sluice autoscale %s decides for it", so.Name, w, a.w.name)
		}
		if len(so.Spec.Triggers) == 0 || so.Spec.Triggers[0].Type != "prometheus" || len(so.Spec.Triggers) > 2 {
			c.errorf("ScaledObject %s: want a prometheus trigger, and at most a kafka one after it", so.Name)
			continue
		}
		md := so.Spec.Triggers[0].Metadata
		c.triggerKeys(so.Name, "prometheus", md, prometheusTriggerKeys)
		if _, err := strconv.ParseFloat(md["threshold"], 64); err != nil {
			c.errorf("ScaledObject %s: threshold %q is not a number", so.Name, md["threshold"])
		}
		// Every indexer of a group exports the whole group's lag: max()
		// is the group's lag, sum() would count it once per pod.
		if want := fmt.Sprintf(`max(sluice_kafka_group_lag{group="%s"})`, cfg.Kafka.ConsumerGroup); md["query"] != want {
			c.errorf("ScaledObject %s: query %q, want %q", so.Name, md["query"], want)
		}
		if u, err := url.Parse(md["serverAddress"]); err != nil || u.Host == "" {
			c.errorf("ScaledObject %s: serverAddress %q is not a URL", so.Name, md["serverAddress"])
		}
		if len(so.Spec.Triggers) == 2 {
			tr := so.Spec.Triggers[1]
			var auth string
			if tr.AuthenticationRef != nil {
				auth = tr.AuthenticationRef.Name
			}
			c.kafkaTrigger(so.Name, tr.Type, tr.Metadata, auth, cfg, md["threshold"])
		}
	}
	for w, by := range scaled {
		if w.replicas != nil {
			c.errorf("%s sets replicas while %s scales it: every upgrade would reset them", w, by)
		}
	}
	for _, w := range c.o.workloads {
		if _, ok := scaled[w]; !ok && w.replicas == nil {
			c.errorf("%s: no replicas and no autoscaler", w)
		}
	}
}

// target is the workload an autoscaler names, or nil after saying it is
// not one of the chart's.
// kafkaTrigger checks KEDA's Kafka scaler trigger of a ScaledObject: it
// reads the lag of the scaled indexers' own consumer group and topic from
// their brokers, counts a partition without a commit from its start (as
// the indexers consume it), has the Prometheus trigger's threshold, and
// logs in as the indexers do (TLS, SASL/PLAIN through a
// TriggerAuthentication whose Secrets exist with their keys).
func (c *checker) kafkaTrigger(so, typ string, md map[string]string, auth string, cfg config.Config, threshold string) {
	if typ != "kafka" {
		c.errorf("ScaledObject %s: second trigger %s, want kafka", so, typ)
		return
	}
	c.triggerKeys(so, "kafka", md, kafkaTriggerKeys)
	want := map[string]string{
		"bootstrapServers": strings.Join(cfg.Kafka.Brokers, ","), "consumerGroup": cfg.Kafka.ConsumerGroup,
		"topic": cfg.Kafka.Topic, "offsetResetPolicy": "earliest", "lagThreshold": threshold,
	}
	if cfg.Kafka.TLS {
		want["tls"] = "enable"
	}
	if cfg.Kafka.Username != "" {
		want["sasl"] = "plaintext"
	}
	for k, v := range want {
		if md[k] != v {
			c.errorf("ScaledObject %s: kafka trigger %s %q, want %q", so, k, md[k], v)
		}
	}
	if md["tls"] != "" && md["tls"] != want["tls"] || md["sasl"] != "" && md["sasl"] != want["sasl"] {
		c.errorf("ScaledObject %s: kafka trigger tls %q sasl %q, but the indexers use TLS %v, username %q", so, md["tls"], md["sasl"], cfg.Kafka.TLS, cfg.Kafka.Username)
	}
	if cfg.Kafka.Username == "" {
		if auth != "" {
			c.errorf("ScaledObject %s: a TriggerAuthentication without SASL", so)
		}
		return
	}
	ta, ok := c.o.triggerAuths[auth]
	if !ok {
		c.errorf("ScaledObject %s: kafka trigger with SASL names TriggerAuthentication %q, which is not rendered", so, auth)
		return
	}
	params := map[string]bool{}
	for _, ref := range ta.Spec.SecretTargetRef {
		if !slices.Contains(kafkaAuthParams, ref.Parameter) {
			c.errorf("TriggerAuthentication %s: KEDA's kafka scaler takes no %s", ta.Name, ref.Parameter)
		}
		params[ref.Parameter] = true
		c.secretKeys(&workload{kind: "TriggerAuthentication", name: ta.Name}, ref.Name, []corev1.KeyToPath{{Key: ref.Key}})
		if ref.Parameter == "username" {
			if s, ok := c.o.secrets[ref.Name]; !ok || string(s.Data[ref.Key]) != cfg.Kafka.Username {
				c.errorf("TriggerAuthentication %s: username from Secret %s key %s is not %q", ta.Name, ref.Name, ref.Key, cfg.Kafka.Username)
			}
		}
	}
	if !params["username"] || !params["password"] {
		c.errorf("TriggerAuthentication %s: SASL/PLAIN needs a username and a password", ta.Name)
	}
}

// triggerKeys checks a KEDA trigger's metadata against its scaler's keys
// (true: required).
func (c *checker) triggerKeys(so, typ string, md map[string]string, keys map[string]bool) {
	for k, required := range keys {
		if required && md[k] == "" {
			c.errorf("ScaledObject %s: %s trigger needs %s", so, typ, k)
		}
	}
	for k := range md {
		if _, ok := keys[k]; !ok {
			c.errorf("ScaledObject %s: KEDA's %s trigger has no %s", so, typ, k)
		}
	}
}

func (c *checker) target(what, apiVersion, kind, name string) *workload {
	w := c.o.workload(kind, name)
	if w == nil || apiVersion != "apps/v1" {
		c.errorf("%s: target %s %s %s is not in the chart", what, apiVersion, kind, name)
		return nil
	}
	return w
}

// budgets: every PDB selects pods, every workload of more than one pod
// has one, and one budget covers all store indexers of every group.
func (c *checker) budgets() {
	covered := map[*workload]bool{}
	for _, p := range c.o.pdbs {
		if p.Spec.Selector == nil || len(p.Spec.Selector.MatchExpressions) > 0 {
			c.errorf("PDB %s: want matchLabels", p.Name)
			continue
		}
		ws := c.o.selected(p.Spec.Selector.MatchLabels)
		if len(ws) == 0 {
			c.errorf("PDB %s selects no pods", p.Name)
		}
		if (p.Spec.MaxUnavailable == nil) == (p.Spec.MinAvailable == nil) {
			c.errorf("PDB %s: set one of maxUnavailable and minAvailable", p.Name)
		}
		for _, w := range ws {
			if covered[w] {
				c.errorf("%s is under two PDBs", w)
			}
			covered[w] = true
		}
	}
	var stores []*workload
	for _, w := range c.o.workloads {
		single := w.replicas != nil && *w.replicas == 1
		if !covered[w] && !single {
			c.errorf("%s has no PodDisruptionBudget", w)
		}
		if w.kind == "StatefulSet" && w.pod.Labels["app.kubernetes.io/component"] == "indexer" {
			stores = append(stores, w)
		}
	}
	if len(stores) > 1 {
		var one bool
		for _, p := range c.o.pdbs {
			if p.Spec.Selector != nil && len(c.o.selected(p.Spec.Selector.MatchLabels)) == len(stores) {
				one = p.Spec.MaxUnavailable != nil && p.Spec.MaxUnavailable.IntValue() == 1
			}
		}
		if !one {
			c.errorf("no single PDB with maxUnavailable 1 over the %d store indexer groups", len(stores))
		}
	}
}

// monitors: every ServiceMonitor selects a Service with its port, and each
// Service labelled for scraping is selected by one.
func (c *checker) monitors() {
	scraped := map[string]int{}
	for _, sm := range c.o.serviceMonitors {
		var n int
		for _, s := range c.o.services {
			if !selectsLabels(sm.Spec.Selector.MatchLabels, s.Labels) {
				continue
			}
			n++
			scraped[s.Name]++
			for _, ep := range sm.Spec.Endpoints {
				if c.servicePort(s.Name, ep.Port) == 0 || ep.Path != "/metrics" {
					c.errorf("ServiceMonitor %s: endpoint %s%s on Service %s", sm.Name, ep.Port, ep.Path, s.Name)
				}
				ws := c.o.selected(s.Spec.Selector)
				cfg, ok := c.configOf(ws)
				if ok && cfg.Auth.Enabled {
					// Only http.metrics_addr serves /metrics without a key,
					// in plain HTTP.
					if _, p, _ := net.SplitHostPort(cfg.HTTP.MetricsAddr); strconv.Itoa(int(c.servicePortNumber(s.Name, ep.Port))) != p || (ep.Scheme != nil && !strings.EqualFold(ep.Scheme.String(), "http")) {
						c.errorf("ServiceMonitor %s: endpoint %s on Service %s, whose pods serve /metrics without a key only on http.metrics_addr %q over HTTP", sm.Name, ep.Port, s.Name, cfg.HTTP.MetricsAddr)
					}
					continue
				}
				if ok && (cfg.HTTP.TLSCertFile != "") != (ep.Scheme != nil && strings.EqualFold(ep.Scheme.String(), "https")) {
					c.errorf("ServiceMonitor %s: scheme %v for Service %s whose pods serve TLS=%v", sm.Name, ep.Scheme, s.Name, cfg.HTTP.TLSCertFile != "")
				}
			}
		}
		if n == 0 {
			c.errorf("ServiceMonitor %s selects no Service", sm.Name)
		}
	}
	if len(c.o.serviceMonitors) == 0 {
		return
	}
	for _, s := range c.o.services {
		if s.Labels["sluice/metrics"] == "true" && scraped[s.Name] != 1 {
			c.errorf("Service %s is scraped by %d ServiceMonitors, want 1", s.Name, scraped[s.Name])
		}
	}
}

func (c *checker) configOf(ws []*workload) (config.Config, bool) {
	if len(ws) == 0 {
		return config.Config{}, false
	}
	return c.config(ws[0])
}

func selectsLabels(sel, lbls map[string]string) bool {
	for k, v := range sel {
		if lbls[k] != v {
			return false
		}
	}
	return len(sel) > 0
}

// noPasswordsInConfigMaps: the passwords given in values are in a Secret
// and nowhere else, in plain text or base64.
func (c *checker) noPasswordsInConfigMaps(docs []manifest) {
	for _, pw := range []string{kafkaPassword, searchPassword, searchAPIKey, forwardKey, forwardUserPW} {
		b64 := base64.StdEncoding.EncodeToString([]byte(pw))
		for _, d := range docs {
			kind, _, name, _ := d.head()
			if kind != "Secret" && (strings.Contains(d.yaml, pw) || strings.Contains(d.yaml, b64)) {
				c.errorf("%s %s holds a password given in values", kind, name)
			}
		}
	}
}

// TestChecksCatch breaks one thing at a time in a good rendering and
// expects the checks to say so: a check that cannot fail checks nothing.
func TestChecksCatch(t *testing.T) {
	saslCase := chartCases[5]
	var values map[string]any
	if err := yaml.Unmarshal([]byte(saslCase.values), &values); err != nil {
		t.Fatal(err)
	}
	good, err := helmTemplate(values)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, kind, object, old, new string
		want                         string
	}{
		{"a Service port without a container port", "Service", "prod-sluice-gateway", "targetPort: otlp-grpc", "targetPort: otlp", "has no TCP container port otlp"},
		{"a Service selecting nothing", "Service", "prod-sluice-gateway", "selector:\n    app.kubernetes.io/name: sluice", "selector:\n    app.kubernetes.io/name: sluicy", "selects no pods"},
		{"a field the API does not have", "Service", "prod-sluice-indexer-a", "publishNotReadyAddresses", "publishNotReady", `unknown field "publishNotReady"`},
		{"a value of the wrong type", "StatefulSet", "prod-sluice-indexer-b", "podManagementPolicy: Parallel", "podManagementPolicy: [Parallel]", "StatefulSet"},
		{"a receiver on loopback", "ConfigMap", "prod-sluice-gateway", `grpc_addr: :4317`, `grpc_addr: 127.0.0.1:4317`, "listens on 127.0.0.1 only"},
		{"a receiver no Service exposes", "Service", "prod-sluice-gateway", "- {name: syslog-tls", "#", "syslog.tls_addr (TCP 6514) is exposed by no Service"},
		{"authentication off", "ConfigMap", "prod-sluice-indexer-b", "auth:\n      enabled: true", "auth:\n      enabled: false", "auth is off"},
		{"a keys file on no volume", "ConfigMap", "prod-sluice-querier", "keys_file: /etc/sluice/secrets/auth-keys.json", "keys_file: /run/keys.json", "auth.keys_file /run/keys.json is on no volume"},
		{"a keys file the Secret does not hold", "Deployment", "prod-sluice-gateway", "key: keys.json", "key: keys", "Secret sluice-auth has no key keys"},
		{"a querier without its key", "ConfigMap", "prod-sluice-querier", "api_key_file: /etc/sluice/secrets/querier-api-key", "api_key: \"\"", "without querier.api_key_file"},
		{"a querier auditing to its log only", "ConfigMap", "prod-sluice-querier", "brokers:\n      - k1:9093\n      - k2:9093", "brokers: []", "audit events in its log only"},
		{"unsigned tenants", "ConfigMap", "prod-sluice-indexer-a", "tenant_signing_key_file: /etc/sluice/secrets/kafka-tenant-key", "tenant_signing_key: \"\"", "not signed"},
		{"no metrics listener", "ConfigMap", "prod-sluice-gateway", `metrics_addr: :9281`, `metrics_addr: ""`, "needs a key unless http.metrics_addr"},
		{"a metrics listener no Service exposes", "Service", "prod-sluice-querier", "- {name: metrics", "#", "http.metrics_addr (TCP 9281) is exposed by no Service"},
		{"a ServiceMonitor scraping /metrics behind the key", "ServiceMonitor", "prod-sluice-gateway", "port: metrics", "port: http", "only on http.metrics_addr"},
		{"an unknown Sluice option", "ConfigMap", "prod-sluice-indexer-a", "sink:", "sinks:", "field sinks not found"},
		{"a probe on the wrong path", "Deployment", "prod-sluice-gateway", "path: /readyz", "path: /ready", "readiness probe asks /ready"},
		{"a probe on a port that does not exist", "StatefulSet", "prod-sluice-indexer-a", "port: http, scheme: HTTP}\n            periodSeconds: 10", "port: web, scheme: HTTP}\n            periodSeconds: 10", "liveness probe on port web"},
		{"a probe over HTTP to an HTTPS server", "Deployment", "prod-sluice-gateway", "scheme: HTTPS}\n            periodSeconds: 5\n            timeoutSeconds", "scheme: HTTP}\n            periodSeconds: 5\n            timeoutSeconds", "probe scheme HTTP, server speaks HTTPS"},
		{"a Secret key that does not exist", "Deployment", "prod-sluice-gateway", "key: kafka-password", "key: kafka-pass", "has no key kafka-pass"},
		{"a password file on no volume", "ConfigMap", "prod-sluice-gateway", "password_file: /etc/sluice/secrets/kafka-password", "password_file: /run/kafka-password", "is on no volume"},
		{"a password in a ConfigMap", "ConfigMap", "prod-sluice-gateway", "password_file: /etc/sluice/secrets/kafka-password", "password: " + kafkaPassword, "holds a password"},
		{"a root user", "StatefulSet", "prod-sluice-indexer-c", "runAsNonRoot: true", "runAsNonRoot: false", "must run as 65532"},
		{"a writable root filesystem", "Deployment", "prod-sluice-querier", "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false", "must run as 65532"},
		{"no memory limit", "Deployment", "prod-sluice-search-indexer", "limits:\n              memory: 512Mi", "limits: {}", "memory limit"},
		{"a store without a volume claim", "StatefulSet", "prod-sluice-indexer-a", "- {name: data, mountPath: /var/lib/sluice}", "- {name: tmp, mountPath: /var/lib/sluice}", "not on a persistent volume claim"},
		{"a grace period shorter than the shutdown", "Deployment", "prod-sluice-gateway", "terminationGracePeriodSeconds: 80", "terminationGracePeriodSeconds: 40", "leaves no time to flush"},
		{"two groups in one consumer group", "ConfigMap", "prod-sluice-indexer-b", "consumer_group: idx-b", "consumer_group: idx-a", "share consumer group idx-a"},
		{"a querier missing an indexer", "ConfigMap", "prod-sluice-querier", "http://prod-sluice-indexer-c-2.prod-sluice-indexer-c.logs.svc.cluster.local:9280", "http://prod-sluice-indexer-c-1.prod-sluice-indexer-c.logs.svc.cluster.local:9280", "lacks http://prod-sluice-indexer-c-2"},
		{"a PDB selecting nothing", "PodDisruptionBudget", "prod-sluice-gateway", "matchLabels:\n      app.kubernetes.io/name: sluice", "matchLabels:\n      app.kubernetes.io/name: sluicy", "selects no pods"},
		{"one group out of the store PDB", "PodDisruptionBudget", "prod-sluice-indexer", "matchLabels:\n      app.kubernetes.io/name: sluice", "matchLabels:\n      sluice/replica-group: a\n      app.kubernetes.io/name: sluice", "no single PDB"},
		{"a ServiceMonitor on a port that does not exist", "ServiceMonitor", "prod-sluice-indexer", "port: metrics", "port: metric", "Service prod-sluice-indexer-a has no port metric"},
		{"KEDA summing the lag every indexer of a group reports", "ScaledObject", "prod-sluice-search-indexer", "max(sluice_kafka_group_lag", "sum(sluice_kafka_group_lag", `want "max(sluice_kafka_group_lag{group=\"sluice-search-indexers\"})"`},
		{"KEDA on another group's lag", "ScaledObject", "prod-sluice-search-indexer", `group=\"sluice-search-indexers\"`, `group=\"idx-a\"`, "want"},
		{"a KEDA trigger option that does not exist", "ScaledObject", "prod-sluice-search-indexer", "threshold:", "lagThreshold:", "KEDA's prometheus trigger has no lagThreshold"},
		{"a field KEDA's ScaledObject does not have", "ScaledObject", "prod-sluice-search-indexer", "pollingInterval:", "pollInterval:", `unknown field "pollInterval"`},
		{"KEDA's Kafka trigger on another group", "ScaledObject", "prod-sluice-search-indexer", `consumerGroup: "sluice-search-indexers"`, `consumerGroup: "idx-a"`, `kafka trigger consumerGroup "idx-a"`},
		{"KEDA's Kafka trigger counting from the newest offset", "ScaledObject", "prod-sluice-search-indexer", "offsetResetPolicy: earliest", "offsetResetPolicy: latest", `offsetResetPolicy "latest"`},
		{"KEDA's Kafka trigger without TLS", "ScaledObject", "prod-sluice-search-indexer", "        tls: enable\n", "", `kafka trigger tls ""`},
		{"a Kafka trigger option that does not exist", "ScaledObject", "prod-sluice-search-indexer", "offsetResetPolicy:", "resetPolicy:", "KEDA's kafka trigger has no resetPolicy"},
		{"KEDA logging in with a key the Secret lacks", "TriggerAuthentication", "prod-sluice-kafka", "key: kafka-password", "key: kafka-pass", "Secret prod-sluice has no key kafka-pass"},
		{"KEDA logging in as someone else", "TriggerAuthentication", "prod-sluice-kafka", "key: kafka-username", "key: kafka-password", "username from Secret"},
		{"replicas set on what KEDA scales", "Deployment", "prod-sluice-search-indexer", "spec:\n  selector:", "spec:\n  replicas: 2\n  selector:", "sets replicas while ScaledObject"},
		{"a name the API server refuses", "Service", "prod-sluice-querier", "name: prod-sluice-querier", "name: Prod-sluice-querier", `Service "Prod-sluice-querier"`},
		{"a store indexer without static membership", "StatefulSet", "prod-sluice-indexer-b", `, "--kafka-instance-id", "$(POD_NAME)"`, "", "without --kafka-instance-id"},
		{"an argument naming no variable", "StatefulSet", "prod-sluice-indexer-a", `"$(POD_NAME)"`, `"$(POD)"`, "$(POD), which is no environment variable"},
		{"a flag serve does not have", "Deployment", "prod-sluice-querier", `"--config"`, `"--conf"`, "sluice serve has no flag --conf"},
		{"a StatefulSet's Service that is not headless", "Service", "prod-sluice-indexer-a", "clusterIP: None", "clusterIP: 10.0.0.1", "must be headless"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs, err := mutate(good, tt.kind, tt.object, tt.old, tt.new)
			if err != nil {
				t.Fatal(err)
			}
			errs := check(docs, saslCase.external, true)
			if !slices.ContainsFunc(errs, func(e string) bool { return strings.Contains(e, tt.want) }) {
				t.Errorf("no error contains %q; got %q", tt.want, errs)
			}
		})
	}
	if errs := check(good, saslCase.external, true); len(errs) > 0 {
		t.Errorf("the unbroken rendering has errors: %q", errs)
	}

	// The forward receiver's secrets.
	fwdCase := chartCases[7]
	var fwdValues map[string]any
	if err := yaml.Unmarshal([]byte(fwdCase.values), &fwdValues); err != nil {
		t.Fatal(err)
	}
	good, err = helmTemplate(fwdValues)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, kind, object, old, new, want string }{
		{"a forward user's password in the ConfigMap", "ConfigMap", "prod-sluice", "password_file: /etc/sluice/secrets/forward-user-1", "password: " + forwardUserPW + "-2", "holds a password"},
		{"a forward user's password file on no item", "StatefulSet", "prod-sluice", "path: forward-user-1", "path: forward-user-one", "volume secrets has no item forward-user-1"},
		{"the shared key the Secret does not hold", "StatefulSet", "prod-sluice", "key: forward-shared-key", "key: forward-shared", "has no key forward-shared"},
	} {
		docs, err := mutate(good, tt.kind, tt.object, tt.old, tt.new)
		if err != nil {
			t.Fatal(err)
		}
		if errs := check(docs, fwdCase.external, true); !slices.ContainsFunc(errs, func(e string) bool { return strings.Contains(e, tt.want) }) {
			t.Errorf("%s: no error contains %q; got %q", tt.name, tt.want, errs)
		}
	}

	// sluice autoscale setting the replicas, and deciding for KEDA.
	for _, cs := range []struct {
		c     chartCase
		tests []struct{ name, kind, object, old, new, want string }
	}{
		{chartCases[9], []struct{ name, kind, object, old, new, want string }{
			{"a wildcard verb on the scale", "Role", "prod-sluice-autoscale", "verbs: [get, update, patch]", `verbs: ["*"]`, `grants * on statefulsets/scale`},
			{"no patch on the scale", "Role", "prod-sluice-autoscale", "verbs: [get, update, patch]", "verbs: [get, update]", `lacks patch on statefulsets/scale`},
			{"the scale of every StatefulSet", "Role", "prod-sluice-autoscale", `resourceNames: ["prod-sluice-indexer-a","prod-sluice-indexer-b"]`, "", `named "*", which no autoscaler needs`},
			{"more than listing pods", "Role", "prod-sluice-autoscale", "verbs: [list]", "verbs: [list, watch]", "watch on pods"},
			{"a ClusterRole", "RoleBinding", "prod-sluice-autoscale", "  kind: Role\n", "  kind: ClusterRole\n", "want a Role of the namespace"},
			{"another namespace's ServiceAccount", "RoleBinding", "prod-sluice-autoscale", "namespace: logs", "namespace: default", "binds no autoscaler's ServiceAccount"},
			{"no token", "Deployment", "prod-sluice-autoscale-a", "automountServiceAccountToken: true", "automountServiceAccountToken: false", "no service account token"},
			{"another consumer group", "ConfigMap", "prod-sluice-autoscale-a", "consumer_group: sluice-indexers-a", "consumer_group: sluice-indexers-b", `reads group "sluice-indexers-b"`},
			{"/metrics behind the key", "ConfigMap", "prod-sluice-autoscale-b", "metrics_port: 9281", "metrics_port: 9280", "serves it without a key"},
			{"a workload not in the chart", "ConfigMap", "prod-sluice-autoscale-search", "deployment: prod-sluice-search-indexer", "deployment: prod-sluice-search", "which is not in the chart"},
			{"a password file on no volume", "ConfigMap", "prod-sluice-autoscale-a", "password_file: /etc/sluice/secrets/kafka-password", "password_file: /run/kafka-password", "is on no volume"},
			{"decisions on a port no Service exposes", "Service", "prod-sluice-autoscale-a", "targetPort: http", "targetPort: 9280", "exposed by no Service"},
			{"two autoscalers", "Deployment", "prod-sluice-autoscale-a", "replicas: 1", "replicas: 2", "want exactly one replica"},
			{"readiness on the metrics page", "Deployment", "prod-sluice-autoscale-a", "path: /readyz", "path: /metrics", "readiness probe that does not ask /readyz"},
			{"liveness on readiness", "Deployment", "prod-sluice-autoscale-a", "path: /healthz", "path: /readyz", "liveness probe that does not ask /healthz"},
			{"replicas the chart resets", "StatefulSet", "prod-sluice-indexer-a", "spec:\n  serviceName", "spec:\n  replicas: 2\n  serviceName", "sets replicas while sluice autoscale"},
		}},
		{chartCases[10], []struct{ name, kind, object, old, new, want string }{
			{"writing the scale KEDA owns", "ConfigMap", "prod-sluice-autoscale-a", "dry_run: true", "dry_run: false", "both scale"},
			{"KEDA on the recommendation", "ScaledObject", "prod-sluice-indexer-a", "valueLocation: desired_replicas", "valueLocation: recommended_replicas", "want desired_replicas and 1"},
			{"KEDA on another group's decision", "ScaledObject", "prod-sluice-indexer-a", "prod-sluice-autoscale-a.", "prod-sluice-autoscale-b.", "that selects"},
			{"KEDA on a port the autoscaler does not serve", "ScaledObject", "prod-sluice-indexer-b", ":9281/api", ":9280/api", "reaches no port"},
			{"a write verb for an autoscaler that only decides", "Role", "prod-sluice-autoscale", "verbs: [get]", "verbs: [get, update]", "update on statefulsets/scale"},
		}},
	} {
		values = nil
		if err := yaml.Unmarshal([]byte(cs.c.values), &values); err != nil {
			t.Fatal(err)
		}
		if good, err = helmTemplate(values); err != nil {
			t.Fatal(err)
		}
		if errs := check(good, cs.c.external, true); len(errs) > 0 {
			t.Errorf("%s: the unbroken rendering has errors: %q", cs.c.name, errs)
		}
		for _, tt := range cs.tests {
			docs, err := mutate(good, tt.kind, tt.object, tt.old, tt.new)
			if err != nil {
				t.Fatal(err)
			}
			if errs := check(docs, cs.c.external, true); !slices.ContainsFunc(errs, func(e string) bool { return strings.Contains(e, tt.want) }) {
				t.Errorf("%s: no error contains %q; got %q", tt.name, tt.want, errs)
			}
		}
	}

	// Without authentication.
	offCase := chartCases[1]
	values = nil
	if err := yaml.Unmarshal([]byte(offCase.values), &values); err != nil {
		t.Fatal(err)
	}
	if good, err = helmTemplate(values); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, kind, object, old, new, want string }{
		{"a ServiceMonitor scraping HTTPS over HTTP", "ServiceMonitor", "prod-sluice-gateway", "scheme: https", "scheme: http", "ServiceMonitor prod-sluice-gateway: scheme"},
		{"a plain-text receiver no Service exposes", "Service", "prod-sluice-gateway", "- {name: syslog-udp", "#", "syslog.udp_addr (UDP 5514) is exposed by no Service"},
		{"authentication on where the values turned it off", "ConfigMap", "prod-sluice-querier", "role: querier", "role: querier\n    auth: {enabled: true, keys_file: /k}", "is on no volume"},
	} {
		docs, err := mutate(good, tt.kind, tt.object, tt.old, tt.new)
		if err != nil {
			t.Fatal(err)
		}
		if errs := check(docs, offCase.external, false); !slices.ContainsFunc(errs, func(e string) bool { return strings.Contains(e, tt.want) }) {
			t.Errorf("%s: no error contains %q; got %q", tt.name, tt.want, errs)
		}
	}
}

// mutate replaces the first old by new in the named object's document.
func mutate(docs []manifest, kind, name, old, new string) ([]manifest, error) {
	out := slices.Clone(docs)
	for i, d := range out {
		k, _, n, err := d.head()
		if err != nil || k != kind || n != name {
			continue
		}
		if !strings.Contains(d.yaml, old) {
			return nil, fmt.Errorf("%s %s has no %q", kind, name, old)
		}
		out[i].yaml = strings.Replace(d.yaml, old, new, 1)
		return out, nil
	}
	return nil, fmt.Errorf("no %s %s", kind, name)
}
