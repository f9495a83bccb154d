package deploy

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	"helm.sh/helm/v3/pkg/releaseutil"
	"sigs.k8s.io/yaml"
)

const (
	chartDir  = "helm/sluice"
	release   = "prod"
	namespace = "logs"
)

// kubeVersion is the oldest Kubernetes the chart supports (Chart.yaml's
// kubeVersion): the preStop hook's sleep action is on by default from 1.30.
var kubeVersion = chartutil.KubeVersion{Version: "v1.30.0", Major: "1", Minor: "30"}

// helmLint runs what `helm lint --strict` runs: the chart file, values
// against values.schema.json, every template rendered and parsed, and
// deprecated APIs. Warnings fail as errors do.
func helmLint(t *testing.T, values map[string]any) {
	t.Helper()
	linter := lint.AllWithKubeVersion(chartDir, values, namespace, &kubeVersion)
	for _, m := range linter.Messages {
		if m.Severity >= support.WarningSev {
			t.Errorf("helm lint: %s", m)
		}
	}
}

// helmTemplate renders the chart as `helm template` does and returns its
// documents by template file, in order.
func helmTemplate(values map[string]any) ([]manifest, error) {
	ch, err := loader.Load(chartDir)
	if err != nil {
		return nil, fmt.Errorf("load chart: %w", err)
	}
	caps := chartutil.DefaultCapabilities.Copy()
	caps.KubeVersion = kubeVersion
	top, err := chartutil.ToRenderValues(ch, values, chartutil.ReleaseOptions{
		Name: release, Namespace: namespace, Revision: 1, IsInstall: true,
	}, caps)
	if err != nil {
		return nil, fmt.Errorf("values: %w", err)
	}
	files, err := engine.Render(ch, top)
	if err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	var out []manifest
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if strings.HasSuffix(name, "NOTES.txt") {
			continue
		}
		docs := releaseutil.SplitManifests(files[name])
		for _, key := range slices.SortedFunc(maps.Keys(docs), compareManifestKeys) {
			doc := strings.TrimSpace(docs[key])
			if doc == "" || onlyComments(doc) {
				continue
			}
			out = append(out, manifest{file: name, yaml: doc})
		}
	}
	return out, nil
}

// manifest is one rendered document.
type manifest struct {
	file string
	yaml string
}

func (m manifest) head() (kind, apiVersion, name string, err error) {
	var h struct {
		Kind       string `json:"kind"`
		APIVersion string `json:"apiVersion"`
		Metadata   struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	err = yaml.Unmarshal([]byte(m.yaml), &h)
	return h.Kind, h.APIVersion, h.Metadata.Name, err
}

// compareManifestKeys orders SplitManifests' keys (manifest-0, manifest-1
// … manifest-10) by their number.
func compareManifestKeys(a, b string) int {
	var x, y int
	fmt.Sscanf(a, "manifest-%d", &x)
	fmt.Sscanf(b, "manifest-%d", &y)
	return x - y
}

func onlyComments(doc string) bool {
	for line := range strings.Lines(doc) {
		if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "#") {
			return false
		}
	}
	return true
}

// breakage is a mistake made on purpose in a file: old replaced by new,
// and what an error must say about it.
type breakage struct{ old, new, want string }

// expectCaught makes each breakage in good, one at a time, and expects
// check to report it: a check that cannot fail checks nothing.
func expectCaught(t *testing.T, good string, breakages []breakage, check func(broken string) []string) {
	t.Helper()
	for _, b := range breakages {
		if !strings.Contains(good, b.old) {
			t.Errorf("the file has no %q", b.old)
			continue
		}
		errs := check(strings.Replace(good, b.old, b.new, 1))
		if !slices.ContainsFunc(errs, func(e string) bool { return strings.Contains(e, b.want) }) {
			t.Errorf("%q → %q: no error contains %q; got %q", b.old, b.new, b.want, errs)
		}
	}
}
