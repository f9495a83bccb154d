package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/sluice-log/sluice/internal/durable"
	"github.com/sluice-log/sluice/internal/tenant"
)

// Role is what a key may do.
type Role string

// The roles. A key has one or more.
const (
	// RoleIngest writes records into its tenants through every receiver.
	RoleIngest Role = "ingest"
	// RoleQuery reads its tenants: query, hits, field names, context,
	// explain, live tail, and the status of its tenants.
	RoleQuery Role = "query"
	// RoleAdmin sees the whole status, /metrics, quarantine and force
	// flush, and reads the audit trail (tenant _audit) when its tenants
	// include it or AllTenants.
	RoleAdmin Role = "admin"
)

// Roles lists every role, for validation and help.
var Roles = []Role{RoleIngest, RoleQuery, RoleAdmin}

// AllTenants in a key's tenants lets it act for any tenant, the default
// tenant "" and the audit trail included (an operator's key).
const AllTenants = "*"

// DefaultTenant is how the default tenant ("" in records) is named in a
// keys file and on the command line.
const DefaultTenant = "default"

// KeyPrefix starts every key, so that secret scanners and people recognise
// one.
const KeyPrefix = "sluice_"

// Key is one entry of the keys file. The key itself is never stored: only
// its SHA-256, which is enough because a key is 32 random bytes (nothing
// to guess from the hash, so no slow hash is needed).
type Key struct {
	Name    string     `json:"name"`
	SHA256  string     `json:"sha256"`
	Tenants []string   `json:"tenants"`
	Roles   []Role     `json:"roles"`
	Created time.Time  `json:"created"`
	Revoked *time.Time `json:"revoked,omitempty"`
}

// File is the keys file: JSON, written by `sluice keys` and read by the
// server. Revoked keys stay in it (with the time they were revoked), so
// that a use of one is audited by name.
type File struct {
	Keys []Key `json:"keys"`
}

// MaxNameLen bounds a key's name.
const MaxNameLen = 64

// maxFileBytes bounds the keys file the server reads.
const maxFileBytes = 16 << 20

// checkName accepts names like tenants': they appear in audit records
// and in basic auth's user name.
func checkName(name string) error {
	if name == "" || len(name) > MaxNameLen {
		return fmt.Errorf("key name must be 1 to %d bytes, got %d", MaxNameLen, len(name))
	}
	if err := tenant.Check(name); err != nil {
		return fmt.Errorf("key name %q: use letters, digits, '-', '_' and '.', starting with a letter or digit", name)
	}
	return nil
}

// ParseTenants reads a comma-separated tenant list (the --tenant flag):
// tenant names, DefaultTenant for the default tenant, AllTenants, or the
// audit trail's tenant.
func ParseTenants(s string) ([]string, error) {
	var out []string
	for _, t := range strings.Split(s, ",") {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		if t != AllTenants && t != DefaultTenant && t != tenant.Audit {
			if err := tenant.Check(t); err != nil {
				return nil, err
			}
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("name at least one tenant (a name, default, or * for every tenant)")
	}
	return out, nil
}

// ParseRoles reads a comma-separated role list (the --role flag).
func ParseRoles(s string) ([]Role, error) {
	var out []Role
	for _, r := range strings.Split(s, ",") {
		r = strings.TrimSpace(r)
		if r == "" {
			continue
		}
		if !slices.Contains(Roles, Role(r)) {
			return nil, fmt.Errorf("unknown role %q: want ingest, query or admin", r)
		}
		if !slices.Contains(out, Role(r)) {
			out = append(out, Role(r))
		}
	}
	if len(out) == 0 {
		return nil, errors.New("name at least one role: ingest, query or admin")
	}
	return out, nil
}

// NewSecret returns a new random key.
func NewSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("read random bytes: %w", err)
	}
	return KeyPrefix + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// Hash is what the keys file stores of a key.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// ReadFile reads a keys file; a missing file is an empty one.
func ReadFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return &File{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read keys file: %w", err)
	}
	return ParseFile(b)
}

// ParseFile decodes and validates a keys file's content.
func ParseFile(b []byte) (*File, error) {
	if len(b) > maxFileBytes {
		return nil, fmt.Errorf("keys file of %d bytes is larger than %d", len(b), maxFileBytes)
	}
	var f File
	if len(strings.TrimSpace(string(b))) > 0 {
		if err := json.Unmarshal(b, &f); err != nil {
			return nil, fmt.Errorf("decode keys file: %w", err)
		}
	}
	seen := map[string]bool{}
	hashes := map[string]bool{}
	for i, k := range f.Keys {
		if err := checkName(k.Name); err != nil {
			return nil, fmt.Errorf("keys file entry %d: %w", i, err)
		}
		if seen[k.Name] {
			return nil, fmt.Errorf("keys file: name %q appears twice", k.Name)
		}
		seen[k.Name] = true
		if h, err := hex.DecodeString(k.SHA256); err != nil || len(h) != sha256.Size {
			return nil, fmt.Errorf("keys file: key %q: sha256 must be 64 hex digits", k.Name)
		}
		if hashes[k.SHA256] {
			return nil, fmt.Errorf("keys file: key %q has the hash of another key", k.Name)
		}
		hashes[k.SHA256] = true
		if _, err := ParseTenants(strings.Join(k.Tenants, ",")); err != nil {
			return nil, fmt.Errorf("keys file: key %q: %w", k.Name, err)
		}
		if _, err := ParseRoles(joinRoles(k.Roles)); err != nil {
			return nil, fmt.Errorf("keys file: key %q: %w", k.Name, err)
		}
	}
	return &f, nil
}

func joinRoles(rs []Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, ",")
}

// Create adds a new key and returns it: the only time it exists outside
// the client that receives it.
func (f *File) Create(name string, tenants []string, roles []Role, now time.Time) (string, error) {
	if err := checkName(name); err != nil {
		return "", err
	}
	if f.find(name) >= 0 {
		return "", fmt.Errorf("a key named %q exists already (revoked keys keep their name)", name)
	}
	secret, err := NewSecret()
	if err != nil {
		return "", err
	}
	f.Keys = append(f.Keys, Key{Name: name, SHA256: Hash(secret), Tenants: tenants, Roles: roles, Created: now.UTC()})
	return secret, nil
}

// Revoke marks the named key revoked.
func (f *File) Revoke(name string, now time.Time) error {
	i := f.find(name)
	if i < 0 {
		return fmt.Errorf("no key named %q", name)
	}
	if f.Keys[i].Revoked != nil {
		return fmt.Errorf("key %q was revoked already at %s", name, f.Keys[i].Revoked.Format(time.RFC3339))
	}
	t := now.UTC()
	f.Keys[i].Revoked = &t
	return nil
}

func (f *File) find(name string) int {
	for i := range f.Keys {
		if f.Keys[i].Name == name {
			return i
		}
	}
	return -1
}

// Write replaces the file at path atomically (a temporary file, fsynced,
// renamed, the directory fsynced), readable by its owner only, so that a server re-reading it
// never sees half of it.
func (f *File) Write(path string) error {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("encode keys file: %w", err)
	}
	if err := durable.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write keys file: %w", err)
	}
	return nil
}
