package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sluice-log/sluice/internal/durable"
)

// ErrNotFound is the error of a dashboard the tenant does not have.
var ErrNotFound = errors.New("no such dashboard")

// ErrFull is the error of a create beyond Store.MaxPerTenant.
var ErrFull = errors.New("too many dashboards")

// Store keeps dashboards as JSON files: <dir>/<tenant>/<id>.json, the
// default tenant in "_default" (no chosen tenant starts with '_'). Every
// write goes to a temporary file that is fsynced, renamed over the old one
// and its folder fsynced: a crash leaves the old dashboard or the new one,
// and an acknowledged write survives it. Writers of one store are
// serialised; the last write of a dashboard wins.
type Store struct {
	dir string
	// MaxPerTenant bounds how many dashboards one tenant keeps.
	MaxPerTenant int
	mu           sync.Mutex
	now          func() time.Time
}

// NewStore keeps dashboards under dir, created on first write.
func NewStore(dir string) *Store {
	return &Store{dir: dir, MaxPerTenant: DefaultLimit, now: time.Now}
}

// Summary is what a list shows of a dashboard.
type Summary struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Panels  int       `json:"panels"`
	Updated time.Time `json:"updated"`
}

func (s *Store) tenantDir(tenant string) string {
	if tenant == "" {
		tenant = "_default"
	}
	return filepath.Join(s.dir, tenant)
}

func (s *Store) path(tenant, id string) string {
	return filepath.Join(s.tenantDir(tenant), id+".json")
}

// List returns the tenant's dashboards by name.
func (s *Store) List(ctx context.Context, tenant string) ([]Summary, error) {
	ids, err := s.ids(tenant)
	if err != nil {
		return nil, err
	}
	out := make([]Summary, 0, len(ids))
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		d, err := s.read(tenant, id)
		if err != nil {
			return nil, err
		}
		out = append(out, Summary{ID: d.ID, Name: d.Name, Panels: len(d.Panels), Updated: d.Updated})
	}
	sort.Slice(out, func(i, j int) bool {
		if a, b := strings.ToLower(out[i].Name), strings.ToLower(out[j].Name); a != b {
			return a < b
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

func (s *Store) ids(tenant string) ([]string, error) {
	ents, err := os.ReadDir(s.tenantDir(tenant))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list dashboards: %w", err)
	}
	var ids []string
	for _, e := range ents {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if ok && !e.IsDir() && CheckID(id) == nil {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// Get returns one dashboard of the tenant.
func (s *Store) Get(_ context.Context, tenant, id string) (Dashboard, error) {
	if CheckID(id) != nil {
		return Dashboard{}, ErrNotFound
	}
	return s.read(tenant, id)
}

func (s *Store) read(tenant, id string) (Dashboard, error) {
	b, err := os.ReadFile(s.path(tenant, id))
	if errors.Is(err, fs.ErrNotExist) {
		return Dashboard{}, ErrNotFound
	}
	if err != nil {
		return Dashboard{}, fmt.Errorf("read dashboard %s: %w", id, err)
	}
	var d Dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		return Dashboard{}, fmt.Errorf("read dashboard %s: %w", id, err)
	}
	d.ID = id
	return d, nil
}

// Create keeps d under a new ID made from its name (a "-2", "-3" … suffix
// when taken) and returns it as stored.
func (s *Store) Create(_ context.Context, tenant string, d Dashboard) (Dashboard, error) {
	if err := d.Check(); err != nil {
		return Dashboard{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ids, err := s.ids(tenant)
	if err != nil {
		return Dashboard{}, err
	}
	if len(ids) >= s.MaxPerTenant {
		return Dashboard{}, fmt.Errorf("%w: the tenant has %d, at most %d", ErrFull, len(ids), s.MaxPerTenant)
	}
	taken := make(map[string]bool, len(ids))
	for _, id := range ids {
		taken[id] = true
	}
	base := Slug(d.Name)
	d.ID = base
	for n := 2; taken[d.ID]; n++ {
		d.ID = base + "-" + strconv.Itoa(n)
	}
	return d, s.write(tenant, &d)
}

// Put replaces (or creates) the dashboard id; created says it was new.
func (s *Store) Put(_ context.Context, tenant, id string, d Dashboard) (_ Dashboard, created bool, _ error) {
	if err := CheckID(id); err != nil {
		return Dashboard{}, false, err
	}
	if err := d.Check(); err != nil {
		return Dashboard{}, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := os.Stat(s.path(tenant, id))
	created = errors.Is(err, fs.ErrNotExist)
	if created {
		ids, err := s.ids(tenant)
		if err != nil {
			return Dashboard{}, false, err
		}
		if len(ids) >= s.MaxPerTenant {
			return Dashboard{}, false, fmt.Errorf("%w: the tenant has %d, at most %d", ErrFull, len(ids), s.MaxPerTenant)
		}
	}
	d.ID = id
	return d, created, s.write(tenant, &d)
}

// Delete removes the dashboard id, durably.
func (s *Store) Delete(_ context.Context, tenant, id string) error {
	if CheckID(id) != nil {
		return ErrNotFound
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	err := os.Remove(s.path(tenant, id))
	if errors.Is(err, fs.ErrNotExist) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("delete dashboard %s: %w", id, err)
	}
	return durable.SyncDir(s.tenantDir(tenant))
}

// write stores d durably (a crash leaves the old version or the new).
func (s *Store) write(tenant string, d *Dashboard) error {
	d.Updated = s.now().UTC().Truncate(time.Millisecond)
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return fmt.Errorf("encode dashboard %s: %w", d.ID, err)
	}
	dir := s.tenantDir(tenant)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write dashboard %s: %w", d.ID, err)
	}
	if err := durable.WriteFile(s.path(tenant, d.ID), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write dashboard %s: %w", d.ID, err)
	}
	return nil
}
