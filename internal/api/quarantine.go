package api

import (
	"errors"
	"net/http"

	"github.com/sluice-log/sluice/internal/store"
)

// Quarantine is what a searcher that keeps damaged parts aside (the
// embedded store) offers operators: queries over a quarantined part are
// partial until it is dropped or restored (docs/storage.md).
type Quarantine interface {
	QuarantinedParts() []store.QuarantinedPart
	DropQuarantined(id string) error
	RestoreQuarantined(id string) error
}

func (s *Server) quarantineAdmin(w http.ResponseWriter) (Quarantine, bool) {
	q, ok := s.cfg.Backend.Searcher().(Quarantine)
	if !ok {
		writeError(w, http.StatusNotFound, "this server has no embedded store, so nothing is quarantined here")
	}
	return q, ok
}

// quarantineList answers the quarantined parts with the error that took
// each out of service.
func (s *Server) quarantineList(w http.ResponseWriter, _ *http.Request) {
	q, ok := s.quarantineAdmin(w)
	if !ok {
		return
	}
	parts := q.QuarantinedParts()
	if parts == nil {
		parts = []store.QuarantinedPart{}
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, struct {
		Parts []store.QuarantinedPart `json:"parts"`
	}{parts})
}

// quarantineAction drops or restores the quarantined part named by the
// parameter part (partition/name).
func (s *Server) quarantineAction(action string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q, ok := s.quarantineAdmin(w)
		if !ok {
			return
		}
		id := r.FormValue("part")
		if id == "" {
			writeError(w, http.StatusBadRequest, "missing parameter 'part' (partition/name, as GET /api/v1/quarantine lists it)")
			return
		}
		do, done := q.DropQuarantined, "dropped"
		if action == "restore" {
			do, done = q.RestoreQuarantined, "restored"
		}
		switch err := do(id); {
		case errors.Is(err, store.ErrNotQuarantined):
			writeError(w, http.StatusNotFound, "%v", err)
		case err != nil:
			writeError(w, http.StatusConflict, "%v", err)
		default:
			writeJSON(w, map[string]string{"part": id, "status": done})
		}
	}
}
