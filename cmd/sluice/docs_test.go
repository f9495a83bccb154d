package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
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
