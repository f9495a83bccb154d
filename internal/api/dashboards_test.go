package api

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/auth"
	"github.com/sluice-log/sluice/internal/dashboard"
)

func dashboardServer(t *testing.T, store *dashboard.Store, g *auth.Guard) *httptest.Server {
	t.Helper()
	reg := prometheus.NewRegistry()
	srv := httptest.NewServer(New(Config{Gatherer: reg, Registry: reg, Log: slogDiscard(), Dashboards: store, Guard: g}))
	t.Cleanup(srv.Close)
	return srv
}

// dashCall sends a request as tenant (and with key, when set) and returns
// the status and body.
func dashCall(t *testing.T, method, url, tenant, body string, key ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if tenant != "" {
		req.Header.Set("X-Scope-OrgID", tenant)
	}
	if len(key) > 0 && key[0] != "" {
		req.Header.Set("Authorization", "Bearer "+key[0])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestDashboardRoutes(t *testing.T) {
	srv := dashboardServer(t, dashboard.NewStore(t.TempDir()), nil)
	u := srv.URL + "/api/v1/dashboards"
	body := `{"name":"Ops","from":"now-6h","refresh":"30s","panels":[{"title":"by level","query":"* | stats count() by level","chart":"bar"}]}`

	for _, tc := range []struct {
		name, method, path, tenant, body string
		code                             int
		want                             string // substring of the answer
	}{
		{"empty list", "GET", "", "acme", "", 200, `{"dashboards":[]}`},
		{"create", "POST", "", "acme", body, 201, `"id":"ops"`},
		{"create again", "POST", "", "acme", body, 201, `"id":"ops-2"`},
		{"read", "GET", "/ops", "acme", "", 200, `"query":"* | stats count() by level"`},
		{"other tenant", "GET", "/ops", "beta", "", 404, "no such dashboard"},
		{"list", "GET", "", "acme", "", 200, `"id":"ops-2","name":"Ops","panels":1`},
		{"bad time", "POST", "", "acme", `{"name":"x","from":"yesterday"}`, 400, `invalid time \"yesterday\"`},
		{"bad chart", "PUT", "/ops", "acme", `{"name":"x","panels":[{"query":"*","chart":"pie"}]}`, 400, `chart \"pie\"`},
		{"bad id", "PUT", "/Ops", "acme", body, 400, "id"},
		{"replace", "PUT", "/ops", "acme", strings.Replace(body, "Ops", "Renamed", 1), 200, `"name":"Renamed"`},
		{"put new", "PUT", "/mine", "beta", body, 201, `"id":"mine"`},
		{"too large", "POST", "", "acme", `{"name":"` + strings.Repeat("x", dashboard.MaxBytes) + `"}`, 413, "at most"},
		{"delete", "DELETE", "/ops-2", "acme", "", 204, ""},
		{"delete again", "DELETE", "/ops-2", "acme", "", 404, "no such dashboard"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, got := dashCall(t, tc.method, u+tc.path, tc.tenant, tc.body)
			if code != tc.code || !strings.Contains(got, tc.want) {
				t.Fatalf("%s %s = %d %s; want %d containing %s", tc.method, tc.path, code, got, tc.code, tc.want)
			}
		})
	}
	// An export (GET) imported as it is (POST) makes a copy with the same content.
	_, exported := dashCall(t, "GET", u+"/ops", "acme", "")
	code, imported := dashCall(t, "POST", u, "beta", exported)
	if code != 201 {
		t.Fatalf("import = %d %s", code, imported)
	}
	var a, b dashboard.Dashboard
	_ = json.Unmarshal([]byte(exported), &a)
	_ = json.Unmarshal([]byte(imported), &b)
	if a.Name != b.Name || a.From != b.From || a.Refresh != b.Refresh || len(b.Panels) != 1 || a.Panels[0] != b.Panels[0] {
		t.Fatalf("import changed the dashboard:\n%s\n%s", exported, imported)
	}
}

func TestDashboardsWithoutStore(t *testing.T) {
	srv := dashboardServer(t, nil, nil)
	if code, body := dashCall(t, "GET", srv.URL+"/api/v1/dashboards", "", ""); code != 501 || !strings.Contains(body, "querier") {
		t.Fatalf("no store: %d %s", code, body)
	}
}

// With authentication on, reading and writing dashboards need role query,
// and a key acts for the tenant it chooses among its own.
func TestDashboardRoles(t *testing.T) {
	g, both, ingestOnly := testGuard(t)
	u := dashboardServer(t, dashboard.NewStore(t.TempDir()), g).URL + "/api/v1/dashboards"
	body := `{"name":"Ops"}`
	for _, tc := range []struct {
		name, method, path, tenant, key, body string
		code                                  int
	}{
		{"no key", "GET", "", "a", "", "", 401},
		{"ingest key reads", "GET", "", "a", ingestOnly, "", 403},
		{"ingest key writes", "POST", "", "a", ingestOnly, body, 403},
		{"query key writes", "POST", "", "a", both, body, 201},
		{"query key reads", "GET", "/ops", "a", both, "", 200},
		{"its other tenant has none", "GET", "/ops", "b", both, "", 404},
		{"a tenant not its own", "GET", "/ops", "c", both, "", 403},
		{"query key deletes", "DELETE", "/ops", "a", both, "", 204},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, got := dashCall(t, tc.method, u+tc.path, tc.tenant, tc.body, tc.key); code != tc.code {
				t.Fatalf("%s %s = %d %s, want %d", tc.method, tc.path, code, got, tc.code)
			}
		})
	}
}
