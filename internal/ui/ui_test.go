package ui

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, path string, hdr map[string]string) *http.Response {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	r := resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var assetRef = regexp.MustCompile(`(?:src|href)="(/ui/assets/[^"]+)"`)

// The committed build must be complete: index.html is served for the UI's
// pages and every asset it names is served with its type.
func TestIndexServedAndReferencesExistingAssets(t *testing.T) {
	h := New()
	for _, page := range []string{"/", "/ui/", "/ui/status"} {
		resp := get(t, h, page, nil)
		html := body(t, resp)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("%s: status %d, type %q", page, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if !strings.Contains(html, `<div id="app">`) || resp.Header.Get("Cache-Control") != "no-cache" {
			t.Fatalf("%s: not the UI's index.html (cache %q):\n%s", page, resp.Header.Get("Cache-Control"), html)
		}
	}
	html := body(t, get(t, h, "/", nil))
	refs := assetRef.FindAllStringSubmatch(html, -1)
	var js, css bool
	for _, m := range refs {
		resp := get(t, h, m[1], nil)
		ctype := resp.Header.Get("Content-Type")
		if resp.StatusCode != http.StatusOK || len(body(t, resp)) == 0 {
			t.Errorf("%s: status %d", m[1], resp.StatusCode)
		}
		if !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
			t.Errorf("%s: Cache-Control %q, want immutable", m[1], resp.Header.Get("Cache-Control"))
		}
		js = js || strings.Contains(ctype, "javascript")
		css = css || strings.HasPrefix(ctype, "text/css")
	}
	if !js || !css {
		t.Errorf("index.html references %v: want a script and a stylesheet", refs)
	}
}

func TestGzipWhenAccepted(t *testing.T) {
	h := New()
	m := assetRef.FindStringSubmatch(body(t, get(t, h, "/", nil)))
	if m == nil {
		t.Fatal("index.html names no asset")
	}
	plain := body(t, get(t, h, m[1], nil))
	cases := []struct {
		accept string
		gzip   bool
	}{
		{"", false},
		{"gzip, deflate, br", true},
		{"br;q=1.0, gzip;q=0.8", true},
		{"gzip;q=0", false},
		{"identity", false},
	}
	for _, c := range cases {
		resp := get(t, h, m[1], map[string]string{"Accept-Encoding": c.accept})
		if got := resp.Header.Get("Content-Encoding") == "gzip"; got != c.gzip {
			t.Errorf("Accept-Encoding %q: gzip %v, want %v", c.accept, got, c.gzip)
		}
		if b := body(t, resp); b != plain {
			t.Errorf("Accept-Encoding %q: body differs after decoding", c.accept)
		}
	}
}

func TestMissingAssetIs404(t *testing.T) {
	if resp := get(t, New(), "/ui/assets/nope.js", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("status %d, want 404", resp.StatusCode)
	}
}
