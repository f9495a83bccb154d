// Package gendoc keeps a generated section of a Markdown document equal
// to what the code says, for the tests of packages whose options or
// kinds a doc lists (go test PKG -update rewrites the section).
package gendoc

import (
	"bytes"
	"os"
	"testing"
)

// Section checks that the text of path between the lines begin and end
// (each ending in a newline) is content. With update it writes content
// there instead. pkg names the package whose tests regenerate it, for the
// message when the doc is stale.
func Section(t testing.TB, path, begin, end, content, pkg string, update bool) {
	t.Helper()
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i, j := bytes.Index(doc, []byte(begin)), bytes.Index(doc, []byte(end))
	if i < 0 || j < i {
		t.Fatalf("%s lacks the generated markers", path)
	}
	want := string(doc[:i+len(begin)]) + content + string(doc[j:])
	if update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if string(doc) != want {
		t.Errorf("%s is stale; run: go test %s -update", path, pkg)
	}
}
