package deploy

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/sluice-log/sluice/internal/config"
)

// TestIndexerManifest: the indexer's configuration is one Sluice accepts,
// and KEDA scales on the group lag every indexer exports (max over the
// indexers: each exports the whole group's figure).
func TestIndexerManifest(t *testing.T) {
	b, err := os.ReadFile("kubernetes/indexer.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var query, sluiceYAML string
	for {
		var doc struct {
			Kind string            `yaml:"kind"`
			Data map[string]string `yaml:"data"`
			Spec struct {
				Triggers []struct {
					Type     string            `yaml:"type"`
					Metadata map[string]string `yaml:"metadata"`
				} `yaml:"triggers"`
			} `yaml:"spec"`
		}
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch doc.Kind {
		case "ConfigMap":
			sluiceYAML = doc.Data["sluice.yaml"]
		case "ScaledObject":
			for _, tr := range doc.Spec.Triggers {
				if tr.Type == "prometheus" {
					query = tr.Metadata["query"]
				}
			}
		}
	}
	if query != `max(sluice_kafka_group_lag{group="sluice-indexers"})` {
		t.Errorf("KEDA's Prometheus trigger queries %q", query)
	}
	cfg, err := config.Parse(strings.NewReader(sluiceYAML))
	if err != nil {
		t.Fatalf("the indexer's sluice.yaml: %v", err)
	}
	cfg.Role, cfg.Kafka.Brokers = config.RoleIndexer, []string{"kafka-bootstrap:9092"} // given as flags in the manifest
	if err := cfg.Validate(); err != nil {
		t.Errorf("the indexer's sluice.yaml: %v", err)
	}
}
