package agent

import (
	"bytes"
	"flag"
	"os"
	"testing"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/process"
)

var update = flag.Bool("update", false, "rewrite the generated part of docs/agent.md")

const (
	docsPath  = "../../docs/agent.md"
	beginMark = "<!-- BEGIN GENERATED: agent options (go test ./internal/agent -update) -->\n"
	endMark   = "<!-- END GENERATED: agent options -->\n"
)

// TestReferenceDoc keeps docs/agent.md's option table equal to the
// configuration's structs.
func TestReferenceDoc(t *testing.T) {
	doc, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	i, j := bytes.Index(doc, []byte(beginMark)), bytes.Index(doc, []byte(endMark))
	if i < 0 || j < i {
		t.Fatalf("%s lacks the generated markers", docsPath)
	}
	want := string(doc[:i+len(beginMark)]) + config.MarkdownTable(Options()) + string(doc[j:])
	if *update {
		if err := os.WriteFile(docsPath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if string(doc) != want {
		t.Errorf("%s is stale; run: go test ./internal/agent -update", docsPath)
	}
}

// The example configuration the docs show loads, and its pipeline's own
// tests pass.
func TestExampleConfig(t *testing.T) {
	c, err := Load("../../docs/examples/agent.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := process.TestsFailed(c.Pipeline.RunTests()); err != nil {
		t.Fatal(err)
	}
}
