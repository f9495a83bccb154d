package tenant

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"", true},
		{"acme", true},
		{"team-a.prod_2", true},
		{"A", true},
		{"9lives", true},
		{strings.Repeat("a", MaxLen), true},
		{strings.Repeat("a", MaxLen+1), false},
		{strings.Repeat("a", 500<<10), false},
		{"../x", false},
		{"..", false},
		{".hidden", false},
		{"-x", false},
		{"_audit", false},
		{"a/b", false},
		{"a b", false},
		{"a\x00", false},
		{"ü", false},
		{"a\nb", false},
	}
	for _, tt := range tests {
		err := Check(tt.name)
		if (err == nil) != tt.ok {
			t.Errorf("Check(%.20q) = %v, want ok=%v", tt.name, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("Check(%.20q) = %v, not ErrInvalid", tt.name, err)
		}
		if err != nil && len(err.Error()) > 300 {
			t.Errorf("Check: error of %d bytes", len(err.Error()))
		}
	}
}

func TestFromHeader(t *testing.T) {
	var got string
	var saw bool
	h := FromHeader(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got, saw = Of(r), true }))
	for _, tt := range []struct {
		header string
		code   int
	}{{"", 200}, {"acme", 200}, {"../x", 400}, {strings.Repeat("x", 100), 400}, {"_audit", 400}} {
		got, saw = "", false
		r := httptest.NewRequest("POST", "/", nil)
		if tt.header != "" {
			r.Header.Set(Header, tt.header)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tt.code {
			t.Errorf("%q: code %d, want %d", tt.header, w.Code, tt.code)
		}
		if tt.code == 200 && (!saw || got != tt.header) {
			t.Errorf("%q: handler saw %q (called %v)", tt.header, got, saw)
		}
		if tt.code != 200 && saw {
			t.Errorf("%q: handler called", tt.header)
		}
	}
}

func TestOfWithoutEdge(t *testing.T) {
	r := httptest.NewRequest("POST", "/", nil)
	r.Header.Set(Header, "victim")
	if got := Of(r); got != "" {
		t.Errorf("Of without an edge = %q, want the default tenant", got)
	}
}

func FuzzCheck(f *testing.F) {
	for _, s := range []string{"", "acme", "../x", "_audit", "a.b-c_d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if Check(s) != nil {
			return
		}
		if len(s) > MaxLen || strings.ContainsAny(s, "/\\ \x00\n") || strings.HasPrefix(s, ".") || strings.HasPrefix(s, "_") {
			t.Fatalf("Check accepted %q", s)
		}
	})
}
