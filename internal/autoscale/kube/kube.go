// Package kube is sluice autoscale's Kubernetes side: the replica count of
// a Deployment or StatefulSet read and set through its scale subresource
// (client-go), and the indexers' /metrics URLs found from the pods the
// scale's selector names. It must not know the scaling policy.
package kube

import (
	"context"
	"fmt"
	"net"
	"strconv"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	appsv1client "k8s.io/client-go/kubernetes/typed/apps/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Kinds of workloads that can be scaled.
const (
	Deployment  = "deployment"
	StatefulSet = "statefulset"
)

// Target is one Deployment or StatefulSet.
type Target struct {
	Apps      appsv1client.AppsV1Interface
	Core      corev1client.CoreV1Interface // for Indexers; nil: no discovery
	Namespace string
	Kind      string // Deployment or StatefulSet
	Name      string
	// MetricsPort is the port of the indexers' HTTP API (/metrics).
	MetricsPort int
}

// Config is the client configuration: the kubeconfig file when given, else
// the pod's service account (in the cluster).
func Config(kubeconfig string) (*rest.Config, error) {
	if kubeconfig != "" {
		c, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("read kubeconfig %s: %w", kubeconfig, err)
		}
		return c, nil
	}
	c, err := rest.InClusterConfig()
	if err != nil {
		return nil, fmt.Errorf("not in a Kubernetes pod (give --kubeconfig): %w", err)
	}
	return c, nil
}

// New makes a Target with clients for c.
func New(c *rest.Config, namespace, kind, name string, metricsPort int) (*Target, error) {
	if kind != Deployment && kind != StatefulSet {
		return nil, fmt.Errorf("kind must be %s or %s, got %q", Deployment, StatefulSet, kind)
	}
	apps, err := appsv1client.NewForConfig(c)
	if err != nil {
		return nil, fmt.Errorf("apps client: %w", err)
	}
	core, err := corev1client.NewForConfig(c)
	if err != nil {
		return nil, fmt.Errorf("core client: %w", err)
	}
	return &Target{Apps: apps, Core: core, Namespace: namespace, Kind: kind, Name: name, MetricsPort: metricsPort}, nil
}

func (t *Target) getScale(ctx context.Context) (*autoscalingv1.Scale, error) {
	var s *autoscalingv1.Scale
	var err error
	if t.Kind == StatefulSet {
		s, err = t.Apps.StatefulSets(t.Namespace).GetScale(ctx, t.Name, metav1.GetOptions{})
	} else {
		s, err = t.Apps.Deployments(t.Namespace).GetScale(ctx, t.Name, metav1.GetOptions{})
	}
	if err != nil {
		return nil, fmt.Errorf("get scale of %s %s/%s: %w", t.Kind, t.Namespace, t.Name, err)
	}
	return s, nil
}

// Replicas is the scale's spec.replicas.
func (t *Target) Replicas(ctx context.Context) (int, error) {
	s, err := t.getScale(ctx)
	if err != nil {
		return 0, err
	}
	return int(s.Spec.Replicas), nil
}

// SetReplicas writes spec.replicas of the scale subresource, read first so
// that the write carries its resourceVersion; a conflict (someone else
// wrote meanwhile) is retried once on a fresh read.
func (t *Target) SetReplicas(ctx context.Context, n int) error {
	var err error
	for range 2 {
		var s *autoscalingv1.Scale
		if s, err = t.getScale(ctx); err != nil {
			return err
		}
		s.Spec.Replicas = int32(n)
		if t.Kind == StatefulSet {
			_, err = t.Apps.StatefulSets(t.Namespace).UpdateScale(ctx, t.Name, s, metav1.UpdateOptions{})
		} else {
			_, err = t.Apps.Deployments(t.Namespace).UpdateScale(ctx, t.Name, s, metav1.UpdateOptions{})
		}
		if !apierrors.IsConflict(err) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("update scale of %s %s/%s to %d: %w", t.Kind, t.Namespace, t.Name, n, err)
	}
	return nil
}

// Indexers are the /metrics URLs of the running, ready pods the scale's
// selector names.
func (t *Target) Indexers(ctx context.Context) ([]string, error) {
	s, err := t.getScale(ctx)
	if err != nil {
		return nil, err
	}
	if s.Status.Selector == "" {
		return nil, fmt.Errorf("the scale of %s %s/%s has no selector", t.Kind, t.Namespace, t.Name)
	}
	pods, err := t.Core.Pods(t.Namespace).List(ctx, metav1.ListOptions{LabelSelector: s.Status.Selector})
	if err != nil {
		return nil, fmt.Errorf("list pods %q in %s: %w", s.Status.Selector, t.Namespace, err)
	}
	var urls []string
	for _, p := range pods.Items {
		if p.Status.Phase != corev1.PodRunning || p.Status.PodIP == "" || p.DeletionTimestamp != nil || !ready(p) {
			continue
		}
		urls = append(urls, "http://"+net.JoinHostPort(p.Status.PodIP, strconv.Itoa(t.MetricsPort))+"/metrics")
	}
	return urls, nil
}

func ready(p corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
