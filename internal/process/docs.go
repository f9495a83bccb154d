package process

import (
	"fmt"
	"strings"

	"github.com/sluice-log/sluice/internal/config"
)

// Reference renders every processor's options as Markdown, from their
// specs: docs/pipeline.md carries it between its generated markers.
func Reference() string {
	var b strings.Builder
	b.WriteString("Every step has `type`, and optionally `name` (the `step` label of its metrics; default: its type, then `type_2`, …) and `if` (a condition in the query filter language: the step processes only the records it matches).\n")
	for _, s := range Specs() {
		fmt.Fprintf(&b, "\n### `%s`\n\n%s\n\n", s.Name, s.Summary)
		opts := config.OptionsOf(s.New(), "")
		if len(opts) == 0 {
			b.WriteString("No options.\n")
			continue
		}
		b.WriteString(config.MarkdownTable(opts))
	}
	return b.String()
}
