package config

import (
	"fmt"
	"reflect"
	"strings"
)

// Option is one documented configuration option.
type Option struct {
	Path    string // dotted YAML path, e.g. "wal.max_size"
	Doc     string
	Default string
	// List marks a list of entries, documented by the options under
	// Path + "[]." (their defaults are an entry's).
	List bool
}

// docsOf maps every dotted YAML path to its doc tag.
func docsOf() map[string]string {
	docs := map[string]string{}
	for _, o := range Options() {
		docs[o.Path] = o.Doc
	}
	return docs
}

// Options lists every option with its documentation and default, in the order
// of the configuration file.
func Options() []Option { return OptionsOf(Default(), "") }

func formatValue(v reflect.Value) string {
	if s, ok := v.Interface().(fmt.Stringer); ok {
		return s.String()
	}
	switch v.Kind() {
	case reflect.Slice:
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = formatValue(v.Index(i))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case reflect.String:
		if v.String() == "" {
			return `""`
		}
	case reflect.Map:
		if v.Len() == 0 {
			return "{}"
		}
	case reflect.Pointer:
		if v.IsNil() {
			return `""`
		}
		return formatValue(v.Elem())
	}
	return fmt.Sprint(v.Interface())
}

// Markdown renders every option as the reference page docs/configuration.md.
func Markdown() string {
	var b strings.Builder
	b.WriteString("# Configuration\n\n")
	b.WriteString("`sluice serve --config sluice.yaml` reads a YAML file over the defaults below;\n")
	b.WriteString("`--data-dir` and `--http-addr` override the file. Unknown keys are errors.\n")
	b.WriteString("`sluice config defaults` prints this whole configuration as YAML with comments,\n")
	b.WriteString("and `sluice config check FILE` validates a file.\n\n")
	b.WriteString("Sizes are written as `512KiB`, `64MiB`, `1GiB` (or a number of bytes);\n")
	b.WriteString("durations as `500ms`, `10s`, `1h`, `30d`.\n\n")
	b.WriteString("This page is generated from the source (`go test ./internal/config -update`).\n")
	for _, o := range Options() {
		if !strings.Contains(o.Path, ".") && (o.Default == "" || o.List) && o.Path != "data_dir" {
			fmt.Fprintf(&b, "\n## `%s`\n\n%s\n\n| option | default | meaning |\n| --- | --- | --- |\n", o.Path, o.Doc)
			continue
		}
		if !strings.Contains(o.Path, ".") {
			fmt.Fprintf(&b, "\n| option | default | meaning |\n| --- | --- | --- |\n")
		}
		def := o.Default
		if def == "" {
			def = `""`
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | %s |\n", o.Path, def, strings.ReplaceAll(o.Doc, "|", "\\|"))
	}
	return b.String()
}
