package api

import (
	"net/http"
	"strings"
)

// rootPattern is the server's root. The Elasticsearch receiver answers its
// info document there (clients probe it before a bulk request), and the web
// UI lives there too.
const rootPattern = "GET /{$}"

// withUI shares the root between h and the UI: browsers ask for text/html,
// Elasticsearch clients never do.
func (s *Server) withUI(pattern string, h http.Handler) http.Handler {
	if pattern != rootPattern || s.cfg.UI == nil {
		return h
	}
	ui := s.cfg.UI
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Accept")
		if wantsHTML(r) {
			ui.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// mountUI serves the UI's pages and assets under /ui/, and the root when no
// receiver claimed it.
func (s *Server) mountUI() {
	if s.cfg.UI == nil {
		return
	}
	s.handle("GET /ui/", s.cfg.UI)
	if _, taken := s.cfg.Ingest[rootPattern]; !taken {
		s.handle(rootPattern, s.cfg.UI)
	}
}

func wantsHTML(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}
