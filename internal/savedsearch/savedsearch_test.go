package savedsearch

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

// TestTenantsAndRestart: a tenant sees and deletes only its own searches,
// a name saved again replaces the search, and all of it survives a
// reopen of the file.
func TestTenantsAndRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "saved_searches.json")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	a1, err := s.Add("a", Search{Name: "errors", Query: "level:error", From: "now-1h"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add("a", Search{Name: "errors", Query: "level:error AND service:x"}); err != nil {
		t.Fatal(err)
	}
	b1, err := s.Add("b", Search{Name: "errors", Query: "level:warn"})
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.Delete("a", b1.ID); ok {
		t.Fatal("tenant a deleted tenant b's search")
	}
	if ok, _ := s.Delete("a", a1.ID); ok {
		t.Fatal("the replaced search is still there")
	}
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.List("a"); len(got) != 1 || got[0].Query != "level:error AND service:x" {
		t.Fatalf("tenant a after reopen: %+v", got)
	}
	if got := s.List("b"); len(got) != 1 || got[0].Query != "level:warn" {
		t.Fatalf("tenant b after reopen: %+v", got)
	}
	for _, bad := range []Search{{Name: "", Query: "x"}, {Name: "x", Query: " "}, {Name: "x", Query: "x", From: strings.Repeat("1", 101)}} {
		if _, err := s.Add("a", bad); err == nil {
			t.Fatalf("Add(%+v) accepted", bad)
		}
	}
}

func TestRoutes(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "s.json"))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for p, h := range s.Routes(func(r *http.Request) string { return r.Header.Get("T") }) {
		mux.Handle(p, h)
	}
	do := func(method, path, body string) (int, string) {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("T", "a")
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		return w.Code, w.Body.String()
	}
	if code, body := do("POST", "/api/v1/saved_searches", `{"name":"n","query":"*"}`); code != 200 || !strings.Contains(body, `"tenant":"a"`) {
		t.Fatalf("POST: %d %s", code, body)
	}
	if code, _ := do("POST", "/api/v1/saved_searches", `{"name":`); code != 400 {
		t.Fatalf("bad JSON: %d", code)
	}
	if code, _ := do("DELETE", "/api/v1/saved_searches/nope", ""); code != 404 {
		t.Fatalf("DELETE unknown: %d", code)
	}
	if code, body := do("GET", "/api/v1/saved_searches", ""); code != 200 || !strings.Contains(body, `"name":"n"`) {
		t.Fatalf("GET: %d %s", code, body)
	}
}
