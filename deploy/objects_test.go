package deploy

import (
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"sigs.k8s.io/yaml"
)

// scaledObject mirrors KEDA's keda.sh/v1alpha1 ScaledObject (the fields of
// KEDA v2.21's apis/keda/v1alpha1 ScaledObjectSpec, status left out). It is
// written here because KEDA's Go API package pulls controller-runtime and
// KEDA's metrics collectors into the build; strict decoding into it refuses
// any field KEDA's type does not have, as KEDA's CRD schema would.
type scaledObject struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		ScaleTargetRef struct {
			Name                   string `json:"name"`
			APIVersion             string `json:"apiVersion,omitempty"`
			Kind                   string `json:"kind,omitempty"`
			EnvSourceContainerName string `json:"envSourceContainerName,omitempty"`
		} `json:"scaleTargetRef"`
		PollingInterval       *int32 `json:"pollingInterval,omitempty"`
		InitialCooldownPeriod *int32 `json:"initialCooldownPeriod,omitempty"`
		CooldownPeriod        *int32 `json:"cooldownPeriod,omitempty"`
		IdleReplicaCount      *int32 `json:"idleReplicaCount,omitempty"`
		MinReplicaCount       *int32 `json:"minReplicaCount,omitempty"`
		MaxReplicaCount       *int32 `json:"maxReplicaCount,omitempty"`
		Advanced              *struct {
			HorizontalPodAutoscalerConfig *struct {
				Name     string                                         `json:"name,omitempty"`
				Behavior *autoscalingv2.HorizontalPodAutoscalerBehavior `json:"behavior,omitempty"`
			} `json:"horizontalPodAutoscalerConfig,omitempty"`
			RestoreToOriginalReplicaCount bool `json:"restoreToOriginalReplicaCount,omitempty"`
		} `json:"advanced,omitempty"`
		Triggers []struct {
			Type              string            `json:"type"`
			Name              string            `json:"name,omitempty"`
			UseCachedMetrics  bool              `json:"useCachedMetrics,omitempty"`
			Metadata          map[string]string `json:"metadata"`
			AuthenticationRef *struct {
				Name string `json:"name"`
				Kind string `json:"kind,omitempty"`
			} `json:"authenticationRef,omitempty"`
			MetricType autoscalingv2.MetricTargetType `json:"metricType,omitempty"`
		} `json:"triggers"`
	} `json:"spec"`
}

// triggerAuthentication mirrors the part of KEDA's keda.sh/v1alpha1
// TriggerAuthentication the chart renders (secretTargetRef); strict
// decoding refuses anything else.
type triggerAuthentication struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		SecretTargetRef []struct {
			Parameter string `json:"parameter"`
			Name      string `json:"name"`
			Key       string `json:"key"`
		} `json:"secretTargetRef"`
	} `json:"spec"`
}

// kafkaTriggerKeys are the trigger metadata keys of KEDA's Kafka scaler
// (the keda tags of kafkaMetadata in pkg/scalers/kafka_scaler.go), with
// those it requires; kafkaAuthParams are the parameters it takes from a
// TriggerAuthentication.
var (
	kafkaTriggerKeys = map[string]bool{
		"bootstrapServers": true, "consumerGroup": true, "topic": false, "partitionLimitation": false,
		"lagThreshold": false, "activationLagThreshold": false, "offsetResetPolicy": false, "allowIdleConsumers": false,
		"excludePersistentLag": false, "scaleToZeroOnInvalidOffset": false, "limitToPartitionsWithLag": false,
		"ensureEvenDistributionOfPartitions": false, "version": false, "tls": false, "unsafeSsl": false, "sasl": false,
		"saslTokenProvider": false, "awsRegion": false,
	}
	kafkaAuthParams = []string{"tls", "ca", "cert", "key", "keyPassword", "sasl", "username", "password", "saslTokenProvider",
		"scopes", "oauthTokenEndpointUri", "oauthExtensions", "keytab", "realm", "kerberosConfig", "kerberosServiceName", "kerberosDisableFAST"}
)

// prometheusTriggerKeys are the metadata keys of KEDA's prometheus scaler
// (pkg/scalers/prometheus_scaler.go in v2.21), with those it requires.
var prometheusTriggerKeys = map[string]bool{
	"serverAddress": true, "query": true, "threshold": true,
	"queryParameters": false, "activationThreshold": false, "namespace": false, "customHeaders": false,
	"ignoreNullValues": false, "unsafeSsl": false, "awsRegion": false, "timeout": false, "identityOwner": false,
}

// objects are the chart's rendered documents, decoded into their API types.
type objects struct {
	configMaps      map[string]*corev1.ConfigMap
	secrets         map[string]*corev1.Secret
	services        map[string]*corev1.Service
	workloads       []*workload
	autoscalers     []*workload // sluice autoscale's Deployments (component autoscaler), checked on their own
	serviceAccounts map[string]*corev1.ServiceAccount
	roles           map[string]*rbacv1.Role
	roleBindings    []*rbacv1.RoleBinding
	pdbs            []*policyv1.PodDisruptionBudget
	hpas            []*autoscalingv2.HorizontalPodAutoscaler
	scaledObjects   []*scaledObject
	triggerAuths    map[string]*triggerAuthentication
	serviceMonitors []*monitoringv1.ServiceMonitor
	kinds           map[string]int
}

// workload is a Deployment or a StatefulSet: what the checks need of either.
type workload struct {
	kind, name  string
	replicas    *int32
	selector    *metav1.LabelSelector
	pod         corev1.PodTemplateSpec
	claims      []corev1.PersistentVolumeClaim
	serviceName string // StatefulSet
}

func (w *workload) String() string { return w.kind + "/" + w.name }

// decode decodes every document strictly into its Kubernetes type: a field
// the type does not have, or a value of the wrong type, is an error, as the
// API server's strict field validation would make it.
func decode(docs []manifest) (*objects, error) {
	o := &objects{
		configMaps: map[string]*corev1.ConfigMap{},
		secrets:    map[string]*corev1.Secret{},
		services:   map[string]*corev1.Service{},
		kinds:      map[string]int{},

		triggerAuths:    map[string]*triggerAuthentication{},
		serviceAccounts: map[string]*corev1.ServiceAccount{},
		roles:           map[string]*rbacv1.Role{},
	}
	for _, d := range docs {
		kind, apiVersion, name, err := d.head()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", d.file, err)
		}
		var target any
		switch apiVersion + " " + kind {
		case "v1 ConfigMap":
			v := &corev1.ConfigMap{}
			o.configMaps[name], target = v, v
		case "v1 Secret":
			v := &corev1.Secret{}
			o.secrets[name], target = v, v
		case "v1 Service":
			v := &corev1.Service{}
			o.services[name], target = v, v
		case "apps/v1 Deployment":
			target = &appsv1.Deployment{}
		case "apps/v1 StatefulSet":
			target = &appsv1.StatefulSet{}
		case "policy/v1 PodDisruptionBudget":
			v := &policyv1.PodDisruptionBudget{}
			o.pdbs, target = append(o.pdbs, v), v
		case "autoscaling/v2 HorizontalPodAutoscaler":
			v := &autoscalingv2.HorizontalPodAutoscaler{}
			o.hpas, target = append(o.hpas, v), v
		case "keda.sh/v1alpha1 ScaledObject":
			v := &scaledObject{}
			o.scaledObjects, target = append(o.scaledObjects, v), v
		case "keda.sh/v1alpha1 TriggerAuthentication":
			v := &triggerAuthentication{}
			o.triggerAuths[name], target = v, v
		case "v1 ServiceAccount":
			v := &corev1.ServiceAccount{}
			o.serviceAccounts[name], target = v, v
		case "rbac.authorization.k8s.io/v1 Role":
			v := &rbacv1.Role{}
			o.roles[name], target = v, v
		case "rbac.authorization.k8s.io/v1 RoleBinding":
			v := &rbacv1.RoleBinding{}
			o.roleBindings, target = append(o.roleBindings, v), v
		case "monitoring.coreos.com/v1 ServiceMonitor":
			v := &monitoringv1.ServiceMonitor{}
			o.serviceMonitors, target = append(o.serviceMonitors, v), v
		default:
			return nil, fmt.Errorf("%s: %s %s %q: a kind these tests do not know; add its type", d.file, apiVersion, kind, name)
		}
		if err := yaml.UnmarshalStrict([]byte(d.yaml), target); err != nil {
			return nil, fmt.Errorf("%s: %s %q: %w", d.file, kind, name, err)
		}
		switch v := target.(type) {
		case *appsv1.Deployment:
			w := &workload{kind: kind, name: v.Name, replicas: v.Spec.Replicas, selector: v.Spec.Selector, pod: v.Spec.Template}
			if w.pod.Labels["app.kubernetes.io/component"] == "autoscaler" {
				o.autoscalers = append(o.autoscalers, w)
			} else {
				o.workloads = append(o.workloads, w)
			}
		case *appsv1.StatefulSet:
			o.workloads = append(o.workloads, &workload{kind: kind, name: v.Name, replicas: v.Spec.Replicas, selector: v.Spec.Selector,
				pod: v.Spec.Template, claims: v.Spec.VolumeClaimTemplates, serviceName: v.Spec.ServiceName})
		}
		o.kinds[kind]++
	}
	return o, nil
}

// selects reports whether a Service's or PDB's selector picks w's pods.
func selects(sel map[string]string, w *workload) bool {
	return len(sel) > 0 && labels.SelectorFromSet(sel).Matches(labels.Set(w.pod.Labels))
}

// selected are the workloads (autoscalers included) whose pods sel picks.
func (o *objects) selected(sel map[string]string) []*workload {
	var out []*workload
	for _, w := range slices.Concat(o.workloads, o.autoscalers) {
		if selects(sel, w) {
			out = append(out, w)
		}
	}
	return out
}

func (o *objects) workload(kind, name string) *workload {
	for _, w := range o.workloads {
		if w.kind == kind && w.name == name {
			return w
		}
	}
	return nil
}

// containerPort finds a port of w's sluice container by name or number.
func (w *workload) containerPort(p string, protocol corev1.Protocol) (corev1.ContainerPort, bool) {
	for _, c := range w.pod.Spec.Containers {
		for _, cp := range c.Ports {
			proto := cp.Protocol
			if proto == "" {
				proto = corev1.ProtocolTCP
			}
			if (cp.Name == p || fmt.Sprint(cp.ContainerPort) == p) && proto == protocol {
				return cp, true
			}
		}
	}
	return corev1.ContainerPort{}, false
}

// mountOf returns the volume mounted at path (or at a parent of it) in w's
// container, and the path inside that volume.
func (w *workload) mountOf(path string) (corev1.VolumeMount, string, bool) {
	best := corev1.VolumeMount{}
	rest, found := "", false
	for _, m := range w.pod.Spec.Containers[0].VolumeMounts {
		if path == m.MountPath || strings.HasPrefix(path, strings.TrimSuffix(m.MountPath, "/")+"/") {
			if len(m.MountPath) > len(best.MountPath) {
				best, rest, found = m, strings.TrimPrefix(strings.TrimPrefix(path, m.MountPath), "/"), true
			}
		}
	}
	return best, rest, found
}

func (w *workload) volume(name string) (corev1.Volume, bool) {
	for _, v := range w.pod.Spec.Volumes {
		if v.Name == name {
			return v, true
		}
	}
	return corev1.Volume{}, false
}

func (w *workload) hasClaim(name string) bool {
	for _, c := range w.claims {
		if c.Name == name {
			return true
		}
	}
	return false
}
