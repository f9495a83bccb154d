package auth

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// keysFixture writes a keys file with the given keys and returns it and
// their secrets by name.
func keysFixture(t *testing.T, keys ...Key) (string, map[string]string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keys.json")
	f := &File{}
	secrets := map[string]string{}
	for _, k := range keys {
		s, err := f.Create(k.Name, k.Tenants, k.Roles, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		secrets[k.Name] = s
	}
	if err := f.Write(path); err != nil {
		t.Fatal(err)
	}
	return path, secrets
}

func TestStoreAuthenticateAndReload(t *testing.T) {
	path, secrets := keysFixture(t,
		Key{Name: "a", Tenants: []string{"acme"}, Roles: []Role{RoleIngest}},
		Key{Name: "b", Tenants: []string{"beta"}, Roles: []Role{RoleQuery}})
	if _, err := Open(filepath.Join(t.TempDir(), "none"), discard()); err == nil {
		t.Error("Open of a missing file succeeded")
	}
	s, err := Open(path, discard())
	if err != nil {
		t.Fatal(err)
	}
	var created, revoked []string
	s.OnChange = func(c, r []string) { created, revoked = append(created, c...), append(revoked, r...) }
	p, err := s.Authenticate(secrets["a"])
	if err != nil || p.Name != "a" || !p.Has(RoleIngest) || p.Has(RoleQuery) {
		t.Fatalf("Authenticate(a) = %+v, %v", p, err)
	}
	for _, bad := range []string{"", "sluice_x", secrets["a"] + "x"} {
		if _, err := s.Authenticate(bad); err == nil {
			t.Errorf("Authenticate(%q) succeeded", bad)
		}
	}

	// Revoke a, add c; Check notices.
	f, _ := ReadFile(path)
	_ = f.Revoke("a", time.Now())
	c, _ := f.Create("c", []string{"acme"}, []Role{RoleQuery}, time.Now())
	if err := f.Write(path); err != nil {
		t.Fatal(err)
	}
	s.Check()
	if _, err := s.Authenticate(secrets["a"]); !errors.Is(err, ErrRevoked) {
		t.Errorf("revoked key: %v", err)
	}
	if p, err := s.Authenticate(c); err != nil || p.Name != "c" {
		t.Errorf("new key: %+v, %v", p, err)
	}
	if !slices.Equal(created, []string{"c"}) || !slices.Equal(revoked, []string{"a"}) {
		t.Errorf("OnChange created %v revoked %v", created, revoked)
	}
	if s.Reloads() != 1 {
		t.Errorf("reloads %d", s.Reloads())
	}

	// A broken file leaves the keys in force.
	if err := os.WriteFile(path, []byte("{broken"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.Check()
	if _, err := s.Authenticate(c); err != nil || s.Failures() != 1 {
		t.Errorf("after a broken file: %v, failures %d", err, s.Failures())
	}
	s.Check() // unchanged broken file: counted again, keys still in force
	if _, err := s.Authenticate(secrets["b"]); err != nil {
		t.Errorf("key b after a broken file: %v", err)
	}
}

func TestPrincipalTenant(t *testing.T) {
	acme := &Principal{Name: "k", Tenants: []string{"acme", "beta"}, Roles: []Role{RoleIngest, RoleQuery}}
	def := &Principal{Name: "d", Tenants: []string{"default"}, Roles: []Role{RoleQuery}}
	op := &Principal{Name: "op", Tenants: []string{"*"}, Roles: []Role{RoleQuery, RoleAdmin}}
	qa := &Principal{Name: "qa", Tenants: []string{"acme"}, Roles: []Role{RoleQuery, RoleAdmin}}
	for _, tt := range []struct {
		p     *Principal
		asked string
		role  Role
		want  string
		ok    bool
	}{
		{acme, "", RoleIngest, "acme", true},
		{acme, "beta", RoleQuery, "beta", true},
		{acme, "gamma", RoleQuery, "", false},
		{acme, "../x", RoleQuery, "", false},
		{acme, "_audit", RoleQuery, "", false},
		{def, "", RoleQuery, "", true},
		{def, "acme", RoleQuery, "", false},
		{def, "default", RoleQuery, "", true},
		{acme, "default", RoleQuery, "", false},
		{op, "default", RoleQuery, "", true},
		{op, "", RoleQuery, "", true},
		{op, "anyone", RoleQuery, "anyone", true},
		{op, "_audit", RoleQuery, "_audit", true},
		{op, "_audit", RoleIngest, "", false},
		{qa, "_audit", RoleQuery, "", false},
	} {
		got, err := tt.p.Tenant(tt.asked, tt.role)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("%s.Tenant(%q, %s) = %q, %v; want %q ok=%v", tt.p.Name, tt.asked, tt.role, got, err, tt.want, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrForbidden) {
			t.Errorf("%s.Tenant(%q): %v is not ErrForbidden", tt.p.Name, tt.asked, err)
		}
	}
}
