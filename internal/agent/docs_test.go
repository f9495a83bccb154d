package agent

import (
	"flag"
	"testing"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/process"
	"github.com/sluice-log/sluice/internal/testutil/gendoc"
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
	gendoc.Section(t, docsPath, beginMark, endMark, config.MarkdownTable(Options()), "./internal/agent", *update)
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
