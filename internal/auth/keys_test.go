package auth

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseTenantsAndRoles(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"acme", "acme", true},
		{"acme, beta,acme", "acme,beta", true},
		{"*", "*", true},
		{"default", "default", true},
		{"_audit", "_audit", true},
		{"../x", "", false},
		{"", "", false},
		{",", "", false},
		{strings.Repeat("a", 65), "", false},
	} {
		got, err := ParseTenants(tt.in)
		if (err == nil) != tt.ok || strings.Join(got, ",") != tt.want {
			t.Errorf("ParseTenants(%q) = %v, %v; want %q ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
	for _, tt := range []struct {
		in string
		ok bool
	}{{"ingest,query", true}, {"admin", true}, {"root", false}, {"", false}, {"ingest,,", true}} {
		if _, err := ParseRoles(tt.in); (err == nil) != tt.ok {
			t.Errorf("ParseRoles(%q) = %v, want ok=%v", tt.in, err, tt.ok)
		}
	}
}

func TestFileCreateRevokeWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	f, err := ReadFile(path)
	if err != nil || len(f.Keys) != 0 {
		t.Fatalf("missing file: %v, %v", f, err)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	secret, err := f.Create("shipper-a", []string{"acme"}, []Role{RoleIngest}, now)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, KeyPrefix) || len(secret) != len(KeyPrefix)+43 {
		t.Errorf("secret %q", secret)
	}
	if _, err := f.Create("shipper-a", []string{"acme"}, []Role{RoleIngest}, now); err == nil {
		t.Error("a second key of the same name was created")
	}
	if _, err := f.Create("bad name", []string{"acme"}, []Role{RoleIngest}, now); err == nil {
		t.Error("a key named 'bad name' was created")
	}
	if err := f.Write(path); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("keys file mode %v, want 0600", fi.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	if strings.Contains(string(b), secret) || !strings.Contains(string(b), Hash(secret)) {
		t.Errorf("keys file holds the key itself or lacks its hash:\n%s", b)
	}
	g, err := ReadFile(path)
	if err != nil || len(g.Keys) != 1 || g.Keys[0].Name != "shipper-a" || !g.Keys[0].Created.Equal(now) {
		t.Fatalf("read back %+v, %v", g, err)
	}
	if err := g.Revoke("shipper-a", now); err != nil {
		t.Fatal(err)
	}
	if err := g.Revoke("shipper-a", now); err == nil {
		t.Error("revoked twice")
	}
	if err := g.Revoke("nobody", now); err == nil {
		t.Error("revoked a key that does not exist")
	}
}

func TestParseFileRejects(t *testing.T) {
	h := Hash("x")
	for name, body := range map[string]string{
		"not json":     `{`,
		"bad name":     `{"keys":[{"name":"../x","sha256":"` + h + `","tenants":["a"],"roles":["ingest"]}]}`,
		"bad hash":     `{"keys":[{"name":"k","sha256":"abc","tenants":["a"],"roles":["ingest"]}]}`,
		"no tenants":   `{"keys":[{"name":"k","sha256":"` + h + `","tenants":[],"roles":["ingest"]}]}`,
		"bad tenant":   `{"keys":[{"name":"k","sha256":"` + h + `","tenants":["a/b"],"roles":["ingest"]}]}`,
		"bad role":     `{"keys":[{"name":"k","sha256":"` + h + `","tenants":["a"],"roles":["root"]}]}`,
		"dup name":     `{"keys":[{"name":"k","sha256":"` + h + `","tenants":["a"],"roles":["ingest"]},{"name":"k","sha256":"` + Hash("y") + `","tenants":["a"],"roles":["ingest"]}]}`,
		"dup hash":     `{"keys":[{"name":"k","sha256":"` + h + `","tenants":["a"],"roles":["ingest"]},{"name":"l","sha256":"` + h + `","tenants":["a"],"roles":["ingest"]}]}`,
		"unknown role": `{"keys":[{"name":"k","sha256":"` + h + `","tenants":["a"],"roles":[""]}]}`,
	} {
		if _, err := ParseFile([]byte(body)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if f, err := ParseFile([]byte("  \n")); err != nil || len(f.Keys) != 0 {
		t.Errorf("empty file: %v, %v", f, err)
	}
}
