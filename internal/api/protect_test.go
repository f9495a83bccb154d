package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestProtect(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	for _, tt := range []struct {
		name   string
		addr   string
		hosts  []string
		method string
		host   string
		header map[string]string
		code   int
	}{
		{"loopback host", "127.0.0.1:9280", nil, "POST", "127.0.0.1:9280", nil, 200},
		{"localhost", "127.0.0.1:9280", nil, "GET", "localhost:9280", nil, 200},
		{"ipv6 loopback", "127.0.0.1:9280", nil, "GET", "[::1]:9280", nil, 200},
		{"rebinding name", "127.0.0.1:9280", nil, "GET", "evil.example:9280", nil, 421},
		{"public listener any host", "0.0.0.0:9280", nil, "GET", "logs.example", nil, 200},
		{"allowed list", ":9280", []string{"logs.example"}, "GET", "logs.example:443", nil, 200},
		{"not in allowed list", ":9280", []string{"logs.example"}, "GET", "evil.example", nil, 421},
		{"cross-site text/plain post", "127.0.0.1:9280", nil, "POST", "127.0.0.1:9280",
			map[string]string{"Sec-Fetch-Site": "cross-site", "Content-Type": "text/plain"}, 403},
		{"cross-origin by Origin", "127.0.0.1:9280", nil, "POST", "127.0.0.1:9280",
			map[string]string{"Origin": "http://evil.example"}, 403},
		{"same-origin post", "127.0.0.1:9280", nil, "POST", "127.0.0.1:9280",
			map[string]string{"Sec-Fetch-Site": "same-origin"}, 200},
		{"cross-site get", "127.0.0.1:9280", nil, "GET", "127.0.0.1:9280",
			map[string]string{"Sec-Fetch-Site": "cross-site"}, 200},
		{"shipper without browser headers", "127.0.0.1:9280", nil, "POST", "127.0.0.1:9280", nil, 200},
	} {
		r := httptest.NewRequest(tt.method, "/insert/jsonline", strings.NewReader("{}"))
		r.Host = tt.host
		for k, v := range tt.header {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		Protect(ok, tt.addr, tt.hosts).ServeHTTP(w, r)
		if w.Code != tt.code {
			t.Errorf("%s: %d, want %d", tt.name, w.Code, tt.code)
		}
	}
}
