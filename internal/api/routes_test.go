package api

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/auth"
	"github.com/sluice-log/sluice/internal/tenant"
)

// TestExtraRoutesTenant: the routes of Config.Routes (alerts, silences,
// saved searches) need a key with role query and act for the tenant the
// key and X-Scope-OrgID decide, as the query routes do; without
// authentication the header names the tenant, checked.
func TestExtraRoutesTenant(t *testing.T) {
	guard, both, ingestOnly := testGuard(t)
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "tenant="+tenant.Of(r)) })
	newSrv := func(g *auth.Guard) *httptest.Server {
		reg := prometheus.NewRegistry()
		ts := httptest.NewServer(New(Config{Backend: nil, Limits: QueryLimits{DefaultLimit: 1, MaxLimit: 1, MaxConcurrent: 1, Timeout: time.Second},
			Gatherer: reg, Registry: reg, Log: slogDiscard(), Guard: g, Routes: map[string]http.Handler{"GET /api/v1/alerts": echo}}))
		t.Cleanup(ts.Close)
		return ts
	}
	on, off := newSrv(guard), newSrv(nil)
	tests := []struct {
		name       string
		srv        *httptest.Server
		key, org   string
		wantCode   int
		wantTenant string
	}{
		{"no key", on, "", "", http.StatusUnauthorized, ""},
		{"role ingest only", on, ingestOnly, "a", http.StatusForbidden, ""},
		{"key of a and b, asks b", on, both, "b", http.StatusOK, "tenant=b"},
		{"key of a and b, asks c", on, both, "c", http.StatusForbidden, ""},
		{"auth off, header", off, "", "c", http.StatusOK, "tenant=c"},
		{"auth off, bad header", off, "", "../x", http.StatusBadRequest, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", tt.srv.URL+"/api/v1/alerts", nil)
			if tt.key != "" {
				req.Header.Set("Authorization", "Bearer "+tt.key)
			}
			if tt.org != "" {
				req.Header.Set(tenant.Header, tt.org)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantCode || (tt.wantTenant != "" && string(b) != tt.wantTenant) {
				t.Fatalf("got %d %q, want %d %q", resp.StatusCode, b, tt.wantCode, tt.wantTenant)
			}
		})
	}
}

// testGuard is authentication on with two keys: both (role query, tenants
// a and b) and ingestOnly (role ingest, tenant a).
func testGuard(t *testing.T) (g *auth.Guard, both, ingestOnly string) {
	t.Helper()
	var f auth.File
	now := time.Now()
	both, err := f.Create("both", []string{"a", "b"}, []auth.Role{auth.RoleQuery}, now)
	if err != nil {
		t.Fatal(err)
	}
	ingestOnly, err = f.Create("feeder", []string{"a"}, []auth.Role{auth.RoleIngest}, now)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "keys.json")
	if err := f.Write(path); err != nil {
		t.Fatal(err)
	}
	keys, err := auth.Open(path, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return auth.NewGuard(keys, nil, slog.New(slog.DiscardHandler)), both, ingestOnly
}
