package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// A component (an agent input or output, a pipeline processor) is
// configured by a struct whose fields carry yaml and doc tags, as Config's
// do: that struct is the component's spec. Its zero-argument constructor
// sets the defaults, DecodeStrict reads a YAML node over them and refuses
// unknown keys, and OptionsOf lists the options for the generated docs. So
// validation, defaults and docs come from one place, and adding a
// component touches no central file.

// OptionsOf lists the documented options of v, a struct or a pointer to
// one, with the values it holds as their defaults; every path starts with
// prefix. Nested structs are listed and then descended into, inline ones
// (yaml:",inline") as if their fields were v's; a field named "-" is
// skipped.
func OptionsOf(v any, prefix string) []Option {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		rv = rv.Elem()
	}
	var out []Option
	var walk func(v reflect.Value, prefix string)
	walk = func(v reflect.Value, prefix string) {
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, flags, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			if flags == "inline" && f.Type.Kind() == reflect.Struct {
				walk(v.Field(i), prefix)
				continue
			}
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			path := prefix + name
			o := Option{Path: path, Doc: f.Tag.Get("doc")}
			fv := v.Field(i)
			if f.Type.Kind() == reflect.Struct && !isLeaf(fv) {
				out = append(out, o)
				walk(fv, path+".")
				continue
			}
			if f.Type.Kind() == reflect.Slice && documentedEntries(f.Type.Elem()) {
				o.Default, o.List = "[]", true
				out = append(out, o)
				walk(reflect.Zero(f.Type.Elem()), path+"[].")
				continue
			}
			o.Default = formatValue(fv)
			if d := f.Tag.Get("default"); d != "" {
				o.Default = d // a list entry's default, applied by Validate
			}
			out = append(out, o)
		}
	}
	walk(rv, prefix)
	return out
}

// documentedEntries reports whether t is a struct whose fields carry doc
// tags: a list of such entries is documented option by option (path[].x),
// others as one value.
func documentedEntries(t reflect.Type) bool {
	if t.Kind() != reflect.Struct || t.NumField() == 0 {
		return false
	}
	for i := 0; i < t.NumField(); i++ {
		if t.Field(i).Tag.Get("doc") == "" {
			return false
		}
	}
	return true
}

// isLeaf reports whether a struct value is shown as one value (it renders
// itself) rather than as its fields.
func isLeaf(v reflect.Value) bool {
	_, ok := v.Interface().(fmt.Stringer)
	return ok
}

// DecodeStrict decodes n into v (a pointer to a struct holding its
// defaults), refusing keys that v has no field for, so that a typo in a
// component's options is an error rather than a silent default. A nil or
// empty node leaves v as it is.
func DecodeStrict(n *yaml.Node, v any) error {
	if n == nil || n.Kind == 0 || n.Tag == "!!null" {
		return nil
	}
	// yaml.v3 checks unknown keys only when decoding a document, so the
	// node goes back to text first.
	b, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return nil
}

// MarkdownTable renders options as a Markdown table (option, default,
// meaning).
func MarkdownTable(opts []Option) string {
	var b strings.Builder
	b.WriteString("| option | default | meaning |\n| --- | --- | --- |\n")
	for _, o := range opts {
		def := o.Default
		if def == "" {
			def = `""`
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | %s |\n", o.Path, def, strings.ReplaceAll(o.Doc, "|", "\\|"))
	}
	return b.String()
}
