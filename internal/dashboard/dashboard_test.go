package dashboard

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	long := strings.Repeat("x", MaxQueryLen+1)
	for _, tc := range []struct {
		name, in string
		err      string // substring of the error; "" accepts
	}{
		{"minimal", `{"name":"ops","panels":[]}`, ""},
		{"panels", `{"name":"ops","from":"now-6h","to":"now","refresh":"30s","panels":[{"title":"a","query":"* | stats count() by _time:5m","chart":"stacked","width":12},{"query":"* | stats count() by level","chart":"bar"}]}`, ""},
		{"no name", `{"name":" ","panels":[]}`, "a name is required"},
		{"unknown member", `{"name":"x","colour":"red"}`, "unknown field"},
		{"two values", `{"name":"x"} {}`, "more than one JSON value"},
		{"not JSON", `name: x`, "invalid dashboard"},
		{"bad chart", `{"name":"x","panels":[{"query":"*","chart":"pie"}]}`, `chart "pie"`},
		{"empty query", `{"name":"x","panels":[{"query":"","chart":"bar"}]}`, "panel 1: a query is required"},
		{"long query", `{"name":"x","panels":[{"query":"` + long + `"}]}`, "panel 1: query"},
		{"width", `{"name":"x","panels":[{"query":"*","width":13}]}`, "width 13"},
		{"refresh", `{"name":"x","refresh":"100ms"}`, "refresh"},
		{"refresh words", `{"name":"x","refresh":"often"}`, "refresh"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.in))
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("Parse: %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrInvalid)):
				t.Fatalf("Parse = %v, want an ErrInvalid containing %q", err, tc.err)
			}
		})
	}
}

func TestParseDefaults(t *testing.T) {
	d, err := Parse([]byte(`{"name":"x","panels":[{"query":"*"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if d.From != "now-1h" || d.To != "now" || d.Panels[0].Chart != "line" {
		t.Fatalf("defaults: %+v", d)
	}
}

func TestCheckIDAndSlug(t *testing.T) {
	for id, ok := range map[string]bool{"ops": true, "a-1": true, "-a": false, "": false, "A": false, "../x": false, "a.json": false, strings.Repeat("a", 65): false} {
		if (CheckID(id) == nil) != ok {
			t.Errorf("CheckID(%q) = %v, want ok=%v", id, CheckID(id), ok)
		}
	}
	for name, want := range map[string]string{"Payments — errors!": "payments-errors", "  ": "dashboard", "API v2 / p99": "api-v2-p99", "日本": "dashboard"} {
		if got := Slug(name); got != want {
			t.Errorf("Slug(%q) = %q, want %q", name, got, want)
		}
	}
	if got := Slug(strings.Repeat("ab ", 100)); CheckID(got+"-99") != nil {
		t.Errorf("Slug of a long name leaves no room for a suffix: %q", got)
	}
}

// FuzzParse: no input panics Parse, and what it accepts passes Check and
// survives a round trip through the store's encoding.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"name":"ops","from":"now-6h","refresh":"1m","panels":[{"title":"a","query":"* | stats count() by _time:5m","chart":"stacked","width":6}]}`))
	f.Add([]byte(`{"name":"x","panels":[{"query":"*","chart":"pie"}]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v is not ErrInvalid", err)
			}
			return
		}
		if err := d.Check(); err != nil {
			t.Fatalf("Parse accepted what Check refuses: %v", err)
		}
	})
}
