// Package savedsearch keeps named queries with their time range, shared by
// everyone of a tenant: the UI lists them and opens them in Discover. It
// owns their file and HTTP endpoints, nothing of the query language.
package savedsearch

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sluice-log/sluice/internal/durable"
)

// Search is one saved search.
type Search struct {
	ID      string    `json:"id"`
	Tenant  string    `json:"tenant"`
	Name    string    `json:"name"`
	Query   string    `json:"query"`
	From    string    `json:"from"` // as the query API takes it: now-1h, an RFC 3339 time …
	To      string    `json:"to"`
	Created time.Time `json:"created"`
}

// Limits of what is stored.
const (
	maxSearches   = 10000
	maxQueryBytes = 64 << 10
	maxNameBytes  = 200
)

// Store is the saved searches of every tenant, in one JSON file.
type Store struct {
	path string
	mu   sync.Mutex
	all  []Search
}

// Open reads path (missing: none saved yet).
func Open(path string) (*Store, error) {
	s := &Store{path: path}
	b, err := os.ReadFile(path)
	switch {
	case os.IsNotExist(err):
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("read saved searches: %w", err)
	}
	if err := json.Unmarshal(b, &s.all); err != nil {
		return nil, fmt.Errorf("saved searches %s: %w", path, err)
	}
	return s, nil
}

// List returns tenant's searches by name.
func (s *Store) List(tenant string) []Search {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Search{}
	for _, x := range s.all {
		if x.Tenant == tenant {
			out = append(out, x)
		}
	}
	slices.SortFunc(out, func(a, b Search) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Add stores x for tenant; a search of the same name is replaced.
func (s *Store) Add(tenant string, x Search) (Search, error) {
	x.Name = strings.TrimSpace(x.Name)
	switch {
	case x.Name == "" || len(x.Name) > maxNameBytes:
		return Search{}, fmt.Errorf("name must have 1 to %d bytes", maxNameBytes)
	case strings.TrimSpace(x.Query) == "" || len(x.Query) > maxQueryBytes:
		return Search{}, fmt.Errorf("query must have 1 to %d bytes", maxQueryBytes)
	case len(x.From) > 100 || len(x.To) > 100:
		return Search{}, fmt.Errorf("from and to are times such as now-1h")
	}
	var id [8]byte
	_, _ = rand.Read(id[:])
	x.ID, x.Tenant, x.Created = hex.EncodeToString(id[:]), tenant, time.Now().UTC()
	s.mu.Lock()
	defer s.mu.Unlock()
	next := slices.DeleteFunc(slices.Clone(s.all), func(o Search) bool { return o.Tenant == tenant && o.Name == x.Name })
	if len(next) >= maxSearches {
		return Search{}, fmt.Errorf("%d saved searches already: delete some first", maxSearches)
	}
	next = append(next, x)
	if err := s.write(next); err != nil {
		return Search{}, err
	}
	s.all = next
	return x, nil
}

// Delete removes tenant's search id; false if there is none.
func (s *Store) Delete(tenant, id string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := slices.DeleteFunc(slices.Clone(s.all), func(o Search) bool { return o.Tenant == tenant && o.ID == id })
	if len(next) == len(s.all) {
		return false, nil
	}
	if err := s.write(next); err != nil {
		return false, err
	}
	s.all = next
	return true, nil
}

// write replaces the file: temporary file, fsync, rename.
func (s *Store) write(all []Search) error {
	b, err := json.Marshal(all)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o755); err != nil {
		return fmt.Errorf("save searches: %w", err)
	}
	if err := durable.WriteFile(s.path, b, 0o644); err != nil {
		return fmt.Errorf("save searches: %w", err)
	}
	return nil
}

// Routes are the endpoints under /api/v1/saved_searches; tenant names a
// request's tenant.
func (s *Store) Routes(tenant func(*http.Request) string) map[string]http.Handler {
	return map[string]http.Handler{
		"GET /api/v1/saved_searches": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, map[string]any{"saved_searches": s.List(tenant(r))})
		}),
		"POST /api/v1/saved_searches": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var x Search
			if err := json.NewDecoder(io.LimitReader(r.Body, 2*maxQueryBytes)).Decode(&x); err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "saved search: " + err.Error()})
				return
			}
			got, err := s.Add(tenant(r), x)
			if err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "saved search: " + err.Error()})
				return
			}
			writeJSON(w, http.StatusOK, got)
		}),
		"DELETE /api/v1/saved_searches/{id}": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ok, err := s.Delete(tenant(r), r.PathValue("id"))
			switch {
			case err != nil:
				writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
			case !ok:
				writeJSON(w, http.StatusNotFound, map[string]string{"error": "no saved search " + r.PathValue("id")})
			default:
				writeJSON(w, http.StatusOK, map[string]string{"status": "deleted"})
			}
		}),
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
