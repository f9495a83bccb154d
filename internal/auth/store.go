package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync/atomic"
	"time"

	"github.com/sluice-log/sluice/internal/tenant"
)

// Errors of authentication and authorisation. The middleware answers the
// first three with 401 and ErrForbidden with 403.
var (
	ErrNoCredential = errors.New("no credential: send Authorization: Bearer <key> (or ApiKey, or basic with the key as password)")
	ErrUnknownKey   = errors.New("unknown key")
	ErrRevoked      = errors.New("revoked key")
	ErrForbidden    = errors.New("forbidden")
)

// Principal is the caller a key stands for.
type Principal struct {
	Name    string
	Tenants []string
	Roles   []Role
}

// Has reports whether p has role r.
func (p *Principal) Has(r Role) bool { return slices.Contains(p.Roles, r) }

// stored is how p's tenants name t ("" is DefaultTenant).
func stored(t string) string {
	if t == "" {
		return DefaultTenant
	}
	return t
}

// MayAct reports whether p's tenants include t.
func (p *Principal) MayAct(t string) bool {
	return slices.Contains(p.Tenants, AllTenants) || slices.Contains(p.Tenants, stored(t))
}

// Tenant decides the tenant a request of p acts for, with role r, given
// what the request's X-Scope-OrgID asked ("" when absent): the asked
// tenant when p may act for it, else the key's first tenant when nothing
// was asked. The audit trail is read by admin keys only, and written by
// none.
func (p *Principal) Tenant(asked string, r Role) (string, error) {
	if asked == DefaultTenant {
		// As in keys: "default" names the default tenant.
		asked = ""
		if !p.MayAct("") {
			return "", fmt.Errorf("%w: key %q may not act for tenant %q", ErrForbidden, p.Name, DefaultTenant)
		}
		return "", nil
	}
	if asked == "" && !slices.Contains(p.Tenants, AllTenants) {
		asked = p.Tenants[0]
		if asked == DefaultTenant {
			asked = ""
		}
	}
	if asked == tenant.Audit {
		if r != RoleQuery || !p.Has(RoleAdmin) || !p.MayAct(asked) {
			return "", fmt.Errorf("%w: the audit trail is read by admin keys only", ErrForbidden)
		}
		return asked, nil
	}
	if err := tenant.Check(asked); err != nil {
		return "", fmt.Errorf("%w: header %s: %w", ErrForbidden, tenant.Header, err)
	}
	if !p.MayAct(asked) {
		return "", fmt.Errorf("%w: key %q may not act for tenant %q", ErrForbidden, p.Name, stored(asked))
	}
	return asked, nil
}

// keySet is one reading of the keys file.
type keySet struct {
	byHash map[[sha256.Size]byte]*Key
	file   *File
	stat   fileStamp
}

type fileStamp struct {
	mtime time.Time
	size  int64
	ino   uint64
}

// Store is the server's view of the keys file: looked up on every request,
// re-read when the file changes.
type Store struct {
	path string
	log  *slog.Logger
	set  atomic.Pointer[keySet]
	// OnChange, when set before Watch, is told the keys that appeared and
	// those revoked (or removed) by each re-reading, for the audit trail.
	OnChange func(created, revoked []string)
	reloads  atomic.Int64
	failures atomic.Int64
}

// Open reads the keys file at path. A missing file is an error: a server
// with authentication on and no keys would refuse everyone, which is
// rarely what was meant.
func Open(path string, log *slog.Logger) (*Store, error) {
	s := &Store{path: path, log: log}
	st, err := stamp(path)
	if err != nil {
		return nil, fmt.Errorf("auth.keys_file: %w (create it with: sluice keys create --keys-file %s --name NAME --tenant TENANT --role ingest,query)", err, path)
	}
	set, err := s.read(st)
	if err != nil {
		return nil, fmt.Errorf("auth.keys_file %s: %w", path, err)
	}
	s.set.Store(set)
	return s, nil
}

func stamp(path string) (fileStamp, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{mtime: fi.ModTime(), size: fi.Size(), ino: inode(fi)}, nil
}

func (s *Store) read(st fileStamp) (*keySet, error) {
	b, err := os.ReadFile(s.path)
	if err != nil {
		return nil, err
	}
	f, err := ParseFile(b)
	if err != nil {
		return nil, err
	}
	set := &keySet{byHash: make(map[[sha256.Size]byte]*Key, len(f.Keys)), file: f, stat: st}
	for i := range f.Keys {
		var h [sha256.Size]byte
		_, _ = hex.Decode(h[:], []byte(f.Keys[i].SHA256))
		set.byHash[h] = &f.Keys[i]
	}
	return set, nil
}

// Authenticate returns the principal of a key.
func (s *Store) Authenticate(secret string) (*Principal, error) {
	if secret == "" {
		return nil, ErrNoCredential
	}
	// A map lookup by the key's hash: its timing says nothing about the
	// key, and no comparison of secrets runs byte by byte.
	k := s.set.Load().byHash[sha256.Sum256([]byte(secret))]
	if k == nil {
		return nil, ErrUnknownKey
	}
	if k.Revoked != nil {
		return &Principal{Name: k.Name}, fmt.Errorf("%w %q", ErrRevoked, k.Name)
	}
	return &Principal{Name: k.Name, Tenants: k.Tenants, Roles: k.Roles}, nil
}

// Keys returns the keys as last read (for tenants known to quotas and
// metrics).
func (s *Store) Keys() []Key { return s.set.Load().file.Keys }

// Watch re-reads the keys file whenever its modification time, size or
// inode changes (a Kubernetes Secret is updated by swapping a symlink,
// which changes the inode), checking every interval, until ctx ends. A
// file that cannot be read or parsed leaves the keys as they were and is
// logged: a half-edited file must not lock everyone out.
func (s *Store) Watch(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.Check()
		}
	}
}

// Check re-reads the file if it changed; Watch calls it.
func (s *Store) Check() {
	old := s.set.Load()
	st, err := stamp(s.path)
	if err != nil {
		s.fail(err)
		return
	}
	if st == old.stat {
		return
	}
	set, err := s.read(st)
	if err != nil {
		s.fail(err)
		return
	}
	s.set.Store(set)
	s.reloads.Add(1)
	created, revoked := diff(old.file, set.file)
	s.log.Info("keys file re-read", "path", s.path, "keys", len(set.file.Keys), "created", created, "revoked", revoked)
	if s.OnChange != nil && (len(created) > 0 || len(revoked) > 0) {
		s.OnChange(created, revoked)
	}
}

func (s *Store) fail(err error) {
	s.failures.Add(1)
	s.log.Error("keys file not re-read; the keys read before stay in force", "path", s.path, "err", err)
}

// Reloads and Failures count the re-readings that took effect and those
// that failed (for metrics).
func (s *Store) Reloads() int64  { return s.reloads.Load() }
func (s *Store) Failures() int64 { return s.failures.Load() }

// diff names the keys that are usable in b and were not in a, and those
// usable in a that are not in b (revoked or removed).
func diff(a, b *File) (created, revoked []string) {
	usable := func(f *File) map[string]string {
		m := map[string]string{}
		for _, k := range f.Keys {
			if k.Revoked == nil {
				m[k.Name] = k.SHA256
			}
		}
		return m
	}
	ua, ub := usable(a), usable(b)
	for _, k := range b.Keys {
		if h, ok := ub[k.Name]; ok && ua[k.Name] != h {
			created = append(created, k.Name)
		}
	}
	for _, k := range a.Keys {
		if h, ok := ua[k.Name]; ok && ub[k.Name] != h {
			revoked = append(revoked, k.Name)
		}
	}
	return created, revoked
}
