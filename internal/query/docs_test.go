package query

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// TestDocsExamples checks that every example in docs/query.md (the lines of
// ```query blocks) parses and round-trips through its canonical form.
func TestDocsExamples(t *testing.T) {
	f, err := os.Open("../../docs/query.md")
	if err != nil {
		t.Fatalf("open the query docs: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	inBlock, examples, line := false, 0, 0
	for sc.Scan() {
		line++
		text := sc.Text()
		switch {
		case strings.HasPrefix(text, "```query"):
			inBlock = true
		case strings.HasPrefix(text, "```"):
			inBlock = false
		case inBlock && strings.TrimSpace(text) != "":
			examples++
			q, err := Parse(text)
			if err != nil {
				t.Errorf("docs/query.md:%d: %q: %v", line, text, err)
				continue
			}
			checkRoundTrip(t, q)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read the query docs: %v", err)
	}
	if inBlock {
		t.Errorf("docs/query.md: a ```query block is not closed")
	}
	if examples < 20 {
		t.Errorf("found only %d examples in docs/query.md; are the blocks marked ```query?", examples)
	}
}
