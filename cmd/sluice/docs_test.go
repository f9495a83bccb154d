package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestDocsNameNoOutsidePaths keeps the README and docs/ free of paths that
// exist only on a developer's machine: a reader has the repository, not
// our home directories or shared folders.
func TestDocsNameNoOutsidePaths(t *testing.T) {
	files, err := filepath.Glob("../../docs/*.md")
	if err != nil || len(files) == 0 {
		t.Fatalf("no docs found: %v", err)
	}
	files = append(files, "../../README.md")
	outside := regexp.MustCompile(`/work/|\.\./shared|/home/[a-z]|/Users/[A-Za-z]`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if m := outside.FindString(line); m != "" {
				t.Errorf("%s:%d names %q, a path outside the repository: %s", f, i+1, m, line)
			}
		}
	}
}

// TestReadmeRunsWhatMakefileHas checks that the README's first commands
// are Makefile targets, and that `make run` execs the built binary (a
// `go run` killed by its PID leaves the server running).
func TestReadmeRunsWhatMakefileHas(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	mk, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	first := regexp.MustCompile("(?s)```sh\n(.*?)```").FindSubmatch(readme)
	if first == nil {
		t.Fatal("README has no sh block")
	}
	var cmds []string
	for _, line := range strings.Split(strings.TrimSpace(string(first[1])), "\n") {
		cmds = append(cmds, strings.Fields(line)[0]+" "+strings.Fields(line)[1])
	}
	if strings.Join(cmds, ";") != "make run;make test" {
		t.Errorf("README's first block runs %q, want make run and make test", cmds)
	}
	run := regexp.MustCompile(`(?m)^run:.*\n\t(.*)`).FindSubmatch(mk)
	if run == nil || !strings.HasPrefix(string(run[1]), "exec ./$(BIN) serve") {
		t.Errorf("Makefile's run target should exec the built binary, got %q", run)
	}
	if !strings.Contains(string(readme), "Ctrl-C") {
		t.Error("README does not say how to stop the server (Ctrl-C)")
	}
}

// TestGrafanaProvisioningParses keeps docs/grafana.md's provisioning file
// valid YAML of a Loki data source at Sluice's default HTTP port.
func TestGrafanaProvisioningParses(t *testing.T) {
	b, err := os.ReadFile("../../docs/grafana.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindSubmatch(b)
	if m == nil {
		t.Fatal("docs/grafana.md has no yaml block")
	}
	var prov struct {
		APIVersion  int `yaml:"apiVersion"`
		Datasources []struct {
			Type, URL, Access string
			JSONData          map[string]any `yaml:"jsonData"`
		}
	}
	if err := yaml.Unmarshal(m[1], &prov); err != nil {
		t.Fatalf("provisioning file: %v", err)
	}
	if len(prov.Datasources) != 1 || prov.Datasources[0].Type != "loki" || prov.Datasources[0].URL != "http://sluice:9280" ||
		prov.Datasources[0].JSONData["httpHeaderName1"] != "X-Scope-OrgID" {
		t.Errorf("provisioning file: %+v", prov)
	}
}
