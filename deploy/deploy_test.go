// Package deploy holds the compose file and Kubernetes manifests of the
// scale-out stack. They cannot run on the build machines; this test only
// parses them, so that a YAML mistake fails the build.
package deploy

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestManifestsParse(t *testing.T) {
	files, _ := filepath.Glob("kubernetes/*.yaml")
	files = append(files, "compose.yaml")
	kinds := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for i := 0; ; i++ {
			var doc map[string]any
			err := dec.Decode(&doc)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s document %d: %v", f, i, err)
			}
			if f == "compose.yaml" {
				if _, ok := doc["services"].(map[string]any); !ok {
					t.Errorf("%s: no services", f)
				}
				continue
			}
			kind, _ := doc["kind"].(string)
			if kind == "" || doc["apiVersion"] == nil || doc["metadata"] == nil {
				t.Errorf("%s document %d: kind, apiVersion and metadata are required", f, i)
			}
			kinds[kind] = true
		}
	}
	for _, k := range []string{"Deployment", "Service", "ConfigMap", "ScaledObject"} {
		if !kinds[k] {
			t.Errorf("no %s among the manifests", k)
		}
	}
}

// TestComposeServices checks the compose file has the stack the docs name,
// with health checks on Kafka, OpenSearch and every Sluice process.
func TestComposeServices(t *testing.T) {
	b, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Services map[string]struct {
			Healthcheck map[string]any `yaml:"healthcheck"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"kafka", "opensearch", "dashboards", "gateway-1", "gateway-2", "indexer-1", "indexer-2"} {
		s, ok := c.Services[name]
		if !ok {
			t.Errorf("service %s missing", name)
			continue
		}
		if name != "dashboards" && s.Healthcheck == nil {
			t.Errorf("service %s has no healthcheck", name)
		}
	}
}
