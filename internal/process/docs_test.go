package process

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/testutil/gendoc"
)

var update = flag.Bool("update", false, "rewrite the generated part of docs/pipeline.md")

const (
	docsPath    = "../../docs/pipeline.md"
	beginMark   = "<!-- BEGIN GENERATED: processors (go test ./internal/process -update) -->\n"
	endMark     = "<!-- END GENERATED: processors -->\n"
	examplePath = "../../docs/examples/pipeline.yaml"
)

// TestReferenceDoc keeps docs/pipeline.md's processor reference equal to
// the processors' specs.
func TestReferenceDoc(t *testing.T) {
	gendoc.Section(t, docsPath, beginMark, endMark, Reference(), "./internal/process", *update)
}

// TestExampleConfig builds the example pipeline and runs its tests, as
// CI runs any configuration's: the example documented must work.
func TestExampleConfig(t *testing.T) {
	c, err := LoadConfig(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Build(Options{}); err != nil {
		t.Fatal(err)
	}
	if len(c.Tests) < 5 {
		t.Errorf("the example has %d tests; it should show them off", len(c.Tests))
	}
	if err := TestsFailed(c.RunTests()); err != nil {
		t.Fatal(err)
	}
	// Every processor appears in the example.
	b, _ := os.ReadFile(examplePath)
	for _, s := range Specs() {
		if !strings.Contains(string(b), "type: "+s.Name+"\n") {
			t.Errorf("the example does not use %s", s.Name)
		}
	}
}

// TestDocsExamples builds every pipeline shown in docs/pipeline.md (the
// ```yaml blocks that start with processors:) and runs its tests.
func TestDocsExamples(t *testing.T) {
	doc, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, block := range strings.Split(string(doc), "```yaml\n")[1:] {
		block, _, _ = strings.Cut(block, "```")
		if !strings.HasPrefix(block, "processors:") {
			continue
		}
		n++
		c, err := ParseConfig(strings.NewReader(block))
		if err == nil {
			_, err = c.Build(Options{})
		}
		if err == nil {
			err = TestsFailed(c.RunTests())
		}
		if err != nil {
			t.Errorf("example %d:\n%s\n%v", n, block, err)
		}
	}
	if n == 0 {
		t.Error("no example found")
	}
}
