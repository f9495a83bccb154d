package auth

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/tenant"
)

type events struct {
	mu  sync.Mutex
	evs []Event
}

func (e *events) Audit(ev Event) { e.mu.Lock(); e.evs = append(e.evs, ev); e.mu.Unlock() }

func TestRequire(t *testing.T) {
	path, sec := keysFixture(t,
		Key{Name: "ing", Tenants: []string{"acme"}, Roles: []Role{RoleIngest}},
		Key{Name: "qry", Tenants: []string{"acme", "beta"}, Roles: []Role{RoleQuery}},
		Key{Name: "adm", Tenants: []string{"*"}, Roles: []Role{RoleAdmin}},
		Key{Name: "old", Tenants: []string{"acme"}, Roles: []Role{RoleIngest, RoleQuery}})
	f, _ := ReadFile(path)
	_ = f.Revoke("old", time.Now())
	_ = f.Write(path)
	store, err := Open(path, discard())
	if err != nil {
		t.Fatal(err)
	}
	audit := &events{}
	g := NewGuard(store, audit, discard())
	bearer := func(name string) string { return "Bearer " + sec[name] }
	for _, tt := range []struct {
		name   string
		role   Role
		authz  string
		asked  string
		code   int
		tenant string
	}{
		{"ingest own tenant", RoleIngest, bearer("ing"), "", 200, "acme"},
		{"ingest asked own", RoleIngest, bearer("ing"), "acme", 200, "acme"},
		{"ingest forged header", RoleIngest, bearer("ing"), "beta", 403, ""},
		{"ingest with a query key", RoleIngest, bearer("qry"), "", 403, ""},
		{"ingest path tenant", RoleIngest, bearer("ing"), "../x", 403, ""},
		{"ingest long tenant", RoleIngest, bearer("ing"), strings.Repeat("a", 500), 403, ""},
		{"ingest into the audit trail", RoleIngest, bearer("adm"), "_audit", 403, ""},
		{"no key", RoleIngest, "", "", 401, ""},
		{"unknown key", RoleQuery, "Bearer sluice_nope", "", 401, ""},
		{"revoked key", RoleQuery, bearer("old"), "", 401, ""},
		{"bad scheme", RoleQuery, "Digest x", "", 401, ""},
		{"query second tenant", RoleQuery, bearer("qry"), "beta", 200, "beta"},
		{"query default first", RoleQuery, bearer("qry"), "", 200, "acme"},
		{"query other tenant", RoleQuery, bearer("qry"), "gamma", 403, ""},
		{"query audit without admin", RoleQuery, bearer("qry"), "_audit", 403, ""},
		{"query audit as admin", RoleQuery, bearer("adm"), "_audit", 200, "_audit"},
		{"query as admin without query", RoleQuery, bearer("adm"), "acme", 403, ""},
		{"admin route", RoleAdmin, bearer("adm"), "", 200, ""},
		{"admin route with query key", RoleAdmin, bearer("qry"), "", 403, ""},
		{"any role", RoleAny, bearer("ing"), "", 200, ""},
		{"any role no key", RoleAny, "", "", 401, ""},
	} {
		var got string
		var p *Principal
		h := g.Require(tt.role, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got, p = tenant.Of(r), PrincipalFrom(r.Context())
			if CredentialFrom(r.Context()) != tt.authz {
				t.Errorf("%s: credential not passed on", tt.name)
			}
		}))
		r := httptest.NewRequest("POST", "/x", nil)
		if tt.authz != "" {
			r.Header.Set("Authorization", tt.authz)
		}
		if tt.asked != "" {
			r.Header.Set(tenant.Header, tt.asked)
		}
		w := httptest.NewRecorder()
		before := len(audit.evs)
		h.ServeHTTP(w, r)
		if w.Code != tt.code {
			t.Errorf("%s: code %d, want %d (%s)", tt.name, w.Code, tt.code, w.Body)
			continue
		}
		if tt.code == 200 && (got != tt.tenant || p == nil) {
			t.Errorf("%s: tenant %q principal %v, want %q", tt.name, got, p, tt.tenant)
		}
		if tt.code != 200 {
			if len(audit.evs) != before+1 || audit.evs[before].Status != tt.code || audit.evs[before].Action != "refused" {
				t.Errorf("%s: refusal not audited: %+v", tt.name, audit.evs[before:])
			}
			if tt.code == 401 && w.Header().Get("WWW-Authenticate") == "" {
				t.Errorf("%s: 401 without WWW-Authenticate", tt.name)
			}
			if strings.Contains(w.Body.String(), strings.Repeat("a", 100)) {
				t.Errorf("%s: the error echoes the long header", tt.name)
			}
		}
	}
}

func TestRequireOff(t *testing.T) {
	var g *Guard
	var got string
	h := g.Require(RoleIngest, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = tenant.Of(r) }))
	r := httptest.NewRequest("POST", "/", nil)
	r.Header.Set(tenant.Header, "acme")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 200 || got != "acme" {
		t.Errorf("off: %d %q", w.Code, got)
	}
	r.Header.Set(tenant.Header, "../x")
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 400 {
		t.Errorf("off, bad tenant: %d", w.Code)
	}
}
