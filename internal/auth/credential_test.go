package auth

import (
	"encoding/base64"
	"strings"
	"testing"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestCredential(t *testing.T) {
	const k = "sluice_abc-DEF_123"
	for _, tt := range []struct {
		authz string
		want  string
		ok    bool
	}{
		{"", "", true},
		{"Bearer " + k, k, true},
		{"bearer   " + k + " ", k, true},
		{"ApiKey " + b64("id1:"+k), k, true},
		{"ApiKey " + k, k, true},
		{"ApiKey " + b64("nocolon"), b64("nocolon"), true},
		{"Basic " + b64("user:"+k), k, true},
		{"Basic " + b64(":"+k), k, true},
		{"Basic " + b64("user:"), "", false},
		{"Basic " + b64("user"), "", false},
		{"Basic !!!", "", false},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"Digest x", "", false},
		{"Bearer " + strings.Repeat("x", 5000), "", false},
	} {
		got, err := Credential(tt.authz)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("Credential(%.40q) = %q, %v; want %q ok=%v", tt.authz, got, err, tt.want, tt.ok)
		}
	}
}

func FuzzCredential(f *testing.F) {
	for _, s := range []string{"", "Bearer k", "ApiKey " + b64("a:b"), "Basic " + b64("u:p"), "Basic", "x y z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, authz string) {
		key, err := Credential(authz)
		if err != nil && key != "" {
			t.Fatalf("error %v with key %q", err, key)
		}
		if len(key) > len(authz) {
			t.Fatalf("key %q longer than its header %q", key, authz)
		}
	})
}
