package api

import (
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/sluice-log/sluice/internal/auth"
	"github.com/sluice-log/sluice/internal/dashboard"
	"github.com/sluice-log/sluice/internal/tenant"
)

// mountDashboards serves the UI's dashboards of the caller's tenant
// (docs/api.md#dashboards). Reading and writing both need role query: a
// dashboard holds queries the key may run anyway, and the people who
// search are the people who build dashboards (Kibana's and Grafana's
// editors are not admins either).
func (s *Server) mountDashboards() {
	g := s.cfg.Guard
	h := func(f http.HandlerFunc) http.Handler { return g.Require(auth.RoleQuery, s.withDashboards(f)) }
	s.handle("GET /api/v1/dashboards", h(s.listDashboards))
	s.handle("POST /api/v1/dashboards", h(s.createDashboard))
	s.handle("GET /api/v1/dashboards/{id}", h(s.getDashboard))
	s.handle("PUT /api/v1/dashboards/{id}", h(s.putDashboard))
	s.handle("DELETE /api/v1/dashboards/{id}", h(s.deleteDashboard))
}

// withDashboards answers 501 where no store keeps them (a querier has no
// data directory).
func (s *Server) withDashboards(f http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.Dashboards == nil {
			writeError(w, http.StatusNotImplemented, "this node keeps no dashboards (a querier has no data directory): use a node with role all or indexer")
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		f(w, r)
	}
}

func (s *Server) listDashboards(w http.ResponseWriter, r *http.Request) {
	l, err := s.cfg.Dashboards.List(r.Context(), tenant.Of(r))
	if err != nil {
		s.dashboardError(w, err)
		return
	}
	if l == nil {
		l = []dashboard.Summary{}
	}
	writeJSON(w, map[string]any{"dashboards": l})
}

func (s *Server) getDashboard(w http.ResponseWriter, r *http.Request) {
	d, err := s.cfg.Dashboards.Get(r.Context(), tenant.Of(r), r.PathValue("id"))
	if err != nil {
		s.dashboardError(w, err)
		return
	}
	writeJSON(w, d)
}

func (s *Server) createDashboard(w http.ResponseWriter, r *http.Request) {
	d, ok := s.readDashboard(w, r)
	if !ok {
		return
	}
	d, err := s.cfg.Dashboards.Create(r.Context(), tenant.Of(r), d)
	if err != nil {
		s.dashboardError(w, err)
		return
	}
	w.Header().Set("Location", "/api/v1/dashboards/"+d.ID)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	writeJSON(w, d)
}

func (s *Server) putDashboard(w http.ResponseWriter, r *http.Request) {
	d, ok := s.readDashboard(w, r)
	if !ok {
		return
	}
	d, created, err := s.cfg.Dashboards.Put(r.Context(), tenant.Of(r), r.PathValue("id"), d)
	if err != nil {
		s.dashboardError(w, err)
		return
	}
	if created {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
	}
	writeJSON(w, d)
}

func (s *Server) deleteDashboard(w http.ResponseWriter, r *http.Request) {
	if err := s.cfg.Dashboards.Delete(r.Context(), tenant.Of(r), r.PathValue("id")); err != nil {
		s.dashboardError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// readDashboard reads and checks the body, including the time bounds as
// the query API would read them.
func (s *Server) readDashboard(w http.ResponseWriter, r *http.Request) (dashboard.Dashboard, bool) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, dashboard.MaxBytes))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "read dashboard: %v (at most %d bytes)", err, dashboard.MaxBytes)
		return dashboard.Dashboard{}, false
	}
	d, err := dashboard.Parse(b)
	if err == nil {
		now := time.Now()
		for _, t := range []string{d.From, d.To} {
			if _, terr := parseTime(t, now, 0); terr != nil && err == nil {
				err = terr
			}
		}
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return dashboard.Dashboard{}, false
	}
	return d, true
}

func (s *Server) dashboardError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, dashboard.ErrNotFound):
		writeError(w, http.StatusNotFound, "%v", err)
	case errors.Is(err, dashboard.ErrInvalid):
		writeError(w, http.StatusBadRequest, "%v", err)
	case errors.Is(err, dashboard.ErrFull):
		writeError(w, http.StatusConflict, "%v", err)
	default:
		s.cfg.Log.Error("dashboards", "err", err)
		writeError(w, http.StatusInternalServerError, "%v", err)
	}
}
