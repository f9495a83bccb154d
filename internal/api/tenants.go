package api

import (
	"context"
	"net/http"

	"github.com/sluice-log/sluice/internal/auth"
	"github.com/sluice-log/sluice/internal/query"
	"github.com/sluice-log/sluice/internal/quota"
	"github.com/sluice-log/sluice/internal/store"
	"github.com/sluice-log/sluice/internal/tenant"
)

// IngestHandler puts a receiver's route behind the edge: the key (with
// role ingest) decides the tenant, then the tenant's ingest quota is
// checked before the body is read. Every role that serves receivers
// mounts them through it.
func IngestHandler(g *auth.Guard, q *quota.Quotas, h http.Handler) http.Handler {
	return g.Require(auth.RoleIngest, q.Gate(h))
}

type costKey struct{}

// tenantQuota runs a query within its tenant's quota: one of the tenant's
// query slots (429 at once when they are taken), and the records it
// scanned counted as the tenant's cost.
func (s *Server) tenantQuota(h http.HandlerFunc) http.HandlerFunc {
	q := s.cfg.Quotas
	if q == nil {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		t := tenant.Of(r)
		done, ok := q.StartQuery(t)
		if !ok {
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusTooManyRequests, "tenant %q runs as many queries as its quota allows (quotas: query_max_concurrent); retry later", displayTenant(t))
			return
		}
		defer done()
		st := &store.SearchStats{}
		h(w, r.WithContext(context.WithValue(r.Context(), costKey{}, st)))
		q.Scanned(t, st.RecordsScanned)
	}
}

func displayTenant(t string) string {
	if t == "" {
		return auth.DefaultTenant
	}
	return t
}

// baseOptions are the options every query of r starts from: its tenant,
// the scan bounds (the tenant's quota tightening the server's), the bound
// and meter of the records it keeps for its answer, and where the search's
// cost is counted.
func (s *Server) baseOptions(r *http.Request) query.Options {
	t := tenant.Of(r)
	opts := query.Options{
		Tenant:            t,
		MaxGroups:         s.cfg.Limits.MaxGroups,
		MaxScannedRecords: s.cfg.Limits.MaxScannedRecords,
		MaxScannedBytes:   s.cfg.Limits.MaxScannedBytes,
		MaxResultBytes:    s.cfg.Limits.MaxResultBytes,
		MaxMemory:         s.cfg.Limits.MaxAggregationBytes,
		Results:           &s.results,
	}
	if s.cfg.Quotas != nil {
		opts.MaxScannedRecords = s.cfg.Quotas.MaxScanned(t, opts.MaxScannedRecords)
	}
	if st, ok := r.Context().Value(costKey{}).(*store.SearchStats); ok {
		opts.Stats = st
	}
	return opts
}
