package loki

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/record"
)

func fields(kvs ...string) []record.Field {
	var fs []record.Field
	for i := 0; i+1 < len(kvs); i += 2 {
		fs = append(fs, record.Field{Name: kvs[i], Value: kvs[i+1]})
	}
	return fs
}

func TestParseLabels(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []record.Field
		err  string
	}{
		{`{}`, nil, ""},
		{` { } `, nil, ""},
		{`{job="api"}`, fields("job", "api"), ""},
		{`{job="api", app="shop",}`, fields("app", "shop", "job", "api"), ""},
		{"{ a = \"1\" ,\n\tb=\"\" }", fields("a", "1", "b", ""), ""},
		{`{path="C:\\dir\\file", q="say \"hi\"", nl="a\nb", u="\u00e9\U0001F600", x="\x41"}`,
			fields("nl", "a\nb", "path", `C:\dir\file`, "q", `say "hi"`, "u", "é😀", "x", "A"), ""},
		{`{v="}{,=\""}`, fields("v", `}{,="`), ""},
		{`{_private="1", A9_b="2"}`, fields("A9_b", "2", "_private", "1"), ""},
		{`{bad="\xff"}`, fields("bad", "\uFFFD"), ""},
		{`{raw="caf` + "\xe9" + `"}`, fields("raw", "caf\uFFFD"), ""},
		{``, nil, "want '{'"},
		{`job="x"`, nil, "want '{'"},
		{`{job="x"`, nil, "want ',' or '}'"},
		{`{job="x}`, nil, "unterminated label value"},
		{`{job=x}`, nil, "to open a label value"},
		{`{job}`, nil, "want '='"},
		{`{9job="x"}`, nil, "want a label name"},
		{`{job-name="x"}`, nil, "want '='"},
		{`{a="1" b="2"}`, nil, "want ',' or '}'"},
		{`{a="1"} extra`, nil, "unexpected text"},
		{`{a="1",,}`, nil, "want a label name"},
		{`{a="1", a="2"}`, nil, `label "a" appears twice`},
		{`{a="\q"}`, nil, "bad escape"},
		{"{a=\"x\ny\"}", nil, "newline in label value"},
		{`{a='x'}`, nil, "to open a label value"},
	} {
		got, err := ParseLabels(tc.in)
		if tc.err != "" {
			if err == nil || !errors.Is(err, ErrLabels) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseLabels(%q) error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseLabels(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// FuzzLabels checks that parsing never panics, that what parses is sorted
// and valid, and that printing it back parses to the same labels.
func FuzzLabels(f *testing.F) {
	for _, s := range []string{`{}`, `{job="api", app="shop",}`, `{a="\u00e9\n\"x\""}`, `{a="\xff"}`, `{a="1"`, `{=}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		labels, err := ParseLabels(s)
		if err != nil {
			return
		}
		for i, l := range labels {
			if !validLabelName(l.Name) || i > 0 && labels[i-1].Name >= l.Name {
				t.Fatalf("%q: bad or unsorted label %q", s, l.Name)
			}
			if !utf8Valid(l.Value) {
				t.Fatalf("%q: value %q is not UTF-8", s, l.Value)
			}
		}
		again, err := ParseLabels(record.StreamString(labels))
		if err != nil || !reflect.DeepEqual(again, labels) {
			t.Fatalf("%q: round trip of %q gave %q, %v", s, record.StreamString(labels), again, err)
		}
	})
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }
