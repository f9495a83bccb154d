package trust

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sync"

	"github.com/sluice-log/sluice/internal/durable"
)

var nodeNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// Server keeps the heads other nodes push to this one, one file per node
// under dir. It only moves forward: a head older than the one it holds
// (a lower entry, or the same entry with another hash) is refused with
// 409, so a node rolled back to an older copy cannot overwrite what it
// published before.
type Server struct {
	dir string
	mu  sync.Mutex
}

// NewServer returns the witness endpoint over dir (created on first use).
func NewServer(dir string) *Server { return &Server{dir: dir} }

// Routes returns the endpoint's routes for a ServeMux.
func (s *Server) Routes() map[string]http.Handler {
	return map[string]http.Handler{
		"PUT " + WitnessPathPrefix + "{name}": http.HandlerFunc(s.put),
		"GET " + WitnessPathPrefix + "{name}": http.HandlerFunc(s.get),
	}
}

func (s *Server) path(w http.ResponseWriter, r *http.Request) (string, bool) {
	name := r.PathValue("name")
	if !nodeNameRe.MatchString(name) {
		http.Error(w, fmt.Sprintf("bad node name %q: letters, digits, '.', '_' and '-', at most 128", name), http.StatusBadRequest)
		return "", false
	}
	return filepath.Join(s.dir, name+".json"), true
}

func (s *Server) put(w http.ResponseWriter, r *http.Request) {
	path, ok := s.path(w, r)
	if !ok {
		return
	}
	var h Head
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&h); err != nil || h.Hash == "" {
		http.Error(w, fmt.Sprintf("want a head {seq, hash, wal_seq, time, sig}: %v", err), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok, err := readHead(path); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	} else if ok && (old.Seq > h.Seq || (old.Seq == h.Seq && old.Hash != h.Hash) || old.WALSeq > h.WALSeq) {
		http.Error(w, fmt.Sprintf("refused: this witness holds entry %d (hash %s, WAL seq %d), and the head pushed (entry %d, hash %s, WAL seq %d) does not follow it: the node's data was rolled back or rewritten",
			old.Seq, old.Hash, old.WALSeq, h.Seq, h.Hash, h.WALSeq), http.StatusConflict)
		return
	}
	b, _ := json.Marshal(h)
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if err := durable.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) get(w http.ResponseWriter, r *http.Request) {
	path, ok := s.path(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	h, ok, err := readHead(path)
	s.mu.Unlock()
	switch {
	case err != nil:
		http.Error(w, err.Error(), http.StatusInternalServerError)
	case !ok:
		http.Error(w, "no head stored for this node", http.StatusNotFound)
	default:
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(h)
	}
}

func readHead(path string) (Head, bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return Head{}, false, nil
	}
	if err != nil {
		return Head{}, false, err
	}
	var h Head
	if err := json.Unmarshal(b, &h); err != nil {
		return Head{}, false, fmt.Errorf("read %s: %w", path, err)
	}
	return h, true, nil
}
