package kube

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// FakeCluster is client-go's fake clientset holding one Deployment and one
// StatefulSet named "indexers" in namespace "logs", whose pods carry
// app=indexers. The fake's object tracker does not serve the scale
// subresource, so reactors do what the API server does: a scale read is
// the workload's spec.replicas and selector, a scale write sets
// spec.replicas of the workload.
func FakeCluster(t testing.TB, replicas int32) *fake.Clientset {
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "indexers"}}
	cs := fake.NewClientset(
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "indexers", Namespace: "logs"}, Spec: appsv1.DeploymentSpec{Replicas: &replicas, Selector: sel}},
		&appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "indexers", Namespace: "logs"}, Spec: appsv1.StatefulSetSpec{Replicas: &replicas, Selector: sel}},
	)
	for _, res := range []string{"deployments", "statefulsets"} {
		gvr := schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: res}
		cs.PrependReactor("get", res, func(a k8stesting.Action) (bool, runtime.Object, error) {
			if a.GetSubresource() != "scale" {
				return false, nil, nil
			}
			obj, err := cs.Tracker().Get(gvr, a.GetNamespace(), a.(k8stesting.GetAction).GetName())
			if err != nil {
				return true, nil, err
			}
			var n int32
			var meta metav1.ObjectMeta
			switch w := obj.(type) {
			case *appsv1.Deployment:
				n, meta = *w.Spec.Replicas, w.ObjectMeta
			case *appsv1.StatefulSet:
				n, meta = *w.Spec.Replicas, w.ObjectMeta
			}
			return true, &autoscalingv1.Scale{
				ObjectMeta: metav1.ObjectMeta{Name: meta.Name, Namespace: meta.Namespace, ResourceVersion: meta.ResourceVersion},
				Spec:       autoscalingv1.ScaleSpec{Replicas: n},
				Status:     autoscalingv1.ScaleStatus{Replicas: n, Selector: "app=indexers"},
			}, nil
		})
		cs.PrependReactor("update", res, func(a k8stesting.Action) (bool, runtime.Object, error) {
			if a.GetSubresource() != "scale" {
				return false, nil, nil
			}
			s := a.(k8stesting.UpdateAction).GetObject().(*autoscalingv1.Scale)
			obj, err := cs.Tracker().Get(gvr, a.GetNamespace(), s.Name)
			if err != nil {
				return true, nil, err
			}
			n := s.Spec.Replicas
			switch w := obj.(type) {
			case *appsv1.Deployment:
				w.Spec.Replicas = &n
			case *appsv1.StatefulSet:
				w.Spec.Replicas = &n
			}
			return true, s, cs.Tracker().Update(gvr, obj, a.GetNamespace())
		})
	}
	return cs
}

// WorkloadReplicas is spec.replicas of the fake's workload of kind.
func WorkloadReplicas(t testing.TB, cs *fake.Clientset, kind string) int {
	t.Helper()
	ctx := context.Background()
	if kind == StatefulSet {
		s, err := cs.AppsV1().StatefulSets("logs").Get(ctx, "indexers", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return int(*s.Spec.Replicas)
	}
	d, err := cs.AppsV1().Deployments("logs").Get(ctx, "indexers", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return int(*d.Spec.Replicas)
}

func TestTargetScale(t *testing.T) {
	ctx := context.Background()
	for _, kind := range []string{Deployment, StatefulSet} {
		t.Run(kind, func(t *testing.T) {
			cs := FakeCluster(t, 2)
			tg := &Target{Apps: cs.AppsV1(), Core: cs.CoreV1(), Namespace: "logs", Kind: kind, Name: "indexers", MetricsPort: 9280}
			if n, err := tg.Replicas(ctx); err != nil || n != 2 {
				t.Fatalf("Replicas = %d, %v; want 2", n, err)
			}
			if err := tg.SetReplicas(ctx, 5); err != nil {
				t.Fatal(err)
			}
			if n := WorkloadReplicas(t, cs, kind); n != 5 {
				t.Errorf("spec.replicas %d after SetReplicas(5)", n)
			}
			if n, _ := tg.Replicas(ctx); n != 5 {
				t.Errorf("Replicas = %d after SetReplicas(5)", n)
			}
			var writes int
			for _, a := range cs.Actions() {
				if a.GetVerb() == "update" && a.GetSubresource() == "scale" {
					writes++
				}
			}
			if writes != 1 {
				t.Errorf("%d writes of the scale subresource, want 1", writes)
			}
			missing := &Target{Apps: cs.AppsV1(), Namespace: "logs", Kind: kind, Name: "nope"}
			if _, err := missing.Replicas(ctx); err == nil {
				t.Error("read the scale of a missing workload")
			}
		})
	}
}

func TestTargetIndexers(t *testing.T) {
	ctx := context.Background()
	cs := FakeCluster(t, 3)
	pod := func(name, ip string, phase corev1.PodPhase, ready corev1.ConditionStatus, app string) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "logs", Labels: map[string]string{"app": app}},
			Status:     corev1.PodStatus{Phase: phase, PodIP: ip, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: ready}}},
		}
	}
	for _, p := range []*corev1.Pod{
		pod("a", "10.0.0.1", corev1.PodRunning, corev1.ConditionTrue, "indexers"),
		pod("b", "10.0.0.2", corev1.PodRunning, corev1.ConditionFalse, "indexers"), // starting
		pod("c", "10.0.0.3", corev1.PodPending, corev1.ConditionFalse, "indexers"),
		pod("d", "10.0.0.4", corev1.PodRunning, corev1.ConditionTrue, "gateway"),
		pod("e", "fd00::5", corev1.PodRunning, corev1.ConditionTrue, "indexers"),
	} {
		if _, err := cs.CoreV1().Pods("logs").Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	tg := &Target{Apps: cs.AppsV1(), Core: cs.CoreV1(), Namespace: "logs", Kind: Deployment, Name: "indexers", MetricsPort: 9280}
	urls, err := tg.Indexers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"http://10.0.0.1:9280/metrics": true, "http://[fd00::5]:9280/metrics": true}
	if len(urls) != len(want) || !want[urls[0]] || !want[urls[1]] {
		t.Errorf("indexers %q, want the two ready ones of app=indexers", urls)
	}
}

func TestNewRejectsKind(t *testing.T) {
	if _, err := New(nil, "logs", "daemonset", "x", 9280); err == nil {
		t.Error("made a target of a daemonset")
	}
}
