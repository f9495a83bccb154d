package healthcheck

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestURL(t *testing.T) {
	tests := []struct {
		opts    Options
		want    string
		wantErr string
	}{
		{opts: Options{Addr: "127.0.0.1:9280", Endpoint: "readyz"}, want: "http://127.0.0.1:9280/readyz"},
		{opts: Options{Addr: ":9280", Endpoint: "healthz"}, want: "http://127.0.0.1:9280/healthz"},
		{opts: Options{Addr: "0.0.0.0:9280", Endpoint: "readyz", TLS: true}, want: "https://127.0.0.1:9280/readyz"},
		{opts: Options{Addr: "[::]:9280", Endpoint: "readyz"}, want: "http://[::1]:9280/readyz"},
		{opts: Options{Addr: "sluice.example:443", Endpoint: "readyz", TLS: true}, want: "https://sluice.example:443/readyz"},
		{opts: Options{Addr: "127.0.0.1:9280", Endpoint: "metrics"}, wantErr: `unknown endpoint "metrics"`},
		{opts: Options{Addr: "9280", Endpoint: "readyz"}, wantErr: `address "9280"`},
	}
	for _, tt := range tests {
		got, err := tt.opts.URL()
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%+v: error %v, want %q", tt.opts, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%+v: got %q, %v; want %q", tt.opts, got, err, tt.want)
		}
	}
}

// handler answers like the server's /readyz and /healthz, and blocks on
// /slow until the client gives up.
func handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "not ready: kafka: no broker answered\nsecond line", http.StatusServiceUnavailable)
	})
	return mux
}

func TestCheck(t *testing.T) {
	plain := httptest.NewServer(handler())
	defer plain.Close()
	secure := httptest.NewTLSServer(handler())
	defer secure.Close()
	empty := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) }))
	defer empty.Close()
	closed := closedAddr(t)
	addr := func(s *httptest.Server) string { return s.Listener.Addr().String() }

	tests := []struct {
		name    string
		opts    Options
		want    string // in the answer on success
		wantErr string // in the error on failure
	}{
		{name: "healthy", opts: Options{Addr: addr(plain), Endpoint: "healthz"}, want: ": 200 ok"},
		{name: "not ready says why, in one line", opts: Options{Addr: addr(plain), Endpoint: "readyz"}, wantErr: ": 503: not ready: kafka: no broker answered"},
		{name: "status text when the body is empty", opts: Options{Addr: addr(empty), Endpoint: "readyz"}, wantErr: ": 502: Bad Gateway"},
		{name: "https without verifying the certificate", opts: Options{Addr: addr(secure), Endpoint: "healthz", TLS: true}, want: "https://"},
		{name: "http against an https server", opts: Options{Addr: addr(secure), Endpoint: "healthz"}, wantErr: ": 400: "},
		{name: "nothing listening", opts: Options{Addr: closed, Endpoint: "healthz"}, wantErr: "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Check(context.Background(), tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("error %v, want one line containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !strings.Contains(got, tt.want) {
				t.Fatalf("got %q, %v; want it to contain %q", got, err, tt.want)
			}
		})
	}
}

func TestCheckDeadline(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	defer slow.Close()
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := Check(ctx, Options{Addr: slow.Listener.Addr().String(), Endpoint: "readyz"})
	if err == nil || !strings.Contains(err.Error(), "no answer in time") {
		t.Fatalf("error %v, want no answer in time", err)
	}
}

func TestOneLine(t *testing.T) {
	long := "a" + strings.Repeat("é", maxReason) // é takes two bytes: byte maxReason is inside one
	tests := []struct{ in, want string }{
		{"", ""},
		{"\n\n  ready  \nmore", "ready"},
		{long, long[:maxReason-1] + "…"},
	}
	for _, tt := range tests {
		if got := oneLine(tt.in); got != tt.want {
			t.Errorf("oneLine(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// closedAddr is an address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := l.Addr().String()
	l.Close()
	return a
}
