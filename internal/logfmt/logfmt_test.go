package logfmt

import (
	"reflect"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/record"
)

func kv(name, value string) record.Field { return record.Field{Name: name, Value: value} }

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []record.Field
	}{
		{"", nil},
		{"level=info msg=ok", []record.Field{kv("level", "info"), kv("msg", "ok")}},
		{`msg="hello world" n=3`, []record.Field{kv("msg", "hello world"), kv("n", "3")}},
		{`msg="say \"hi\"\\" x=1`, []record.Field{kv("msg", `say "hi"\`), kv("x", "1")}},
		{"bare a=1 =2 b=", []record.Field{kv("a", "1"), kv("b", "")}},
		{`msg="unterminated`, []record.Field{kv("msg", "unterminated")}},
		{"  spaced=1   out=2 ", []record.Field{kv("spaced", "1"), kv("out", "2")}},
	} {
		if got := Parse(tc.in, nil); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Parse(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// FuzzParse: any input parses without panicking, every key is non-empty
// and free of spaces and '=', and every unquoted value is a substring of
// the input.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"a=1 b=2", `m="x \" y"`, `k="`, "=", `a=\`, "x= y=\"\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, fl := range Parse(s, nil) {
			if fl.Name == "" || strings.ContainsAny(fl.Name, " =") {
				t.Fatalf("bad key %q from %q", fl.Name, s)
			}
			if !strings.Contains(s, fl.Name+"=") {
				t.Fatalf("key %q not in %q", fl.Name, s)
			}
		}
	})
}
