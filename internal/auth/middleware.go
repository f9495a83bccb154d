package auth

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/tenant"
)

// RoleAny on a route lets any valid key in, whatever its roles (status,
// whoami: their handlers show only what the key's tenants may see).
const RoleAny Role = ""

// Event is one line of the audit trail.
type Event struct {
	Time   time.Time
	Action string // refused, key_created, key_revoked, or an admin action
	Key    string // the key's name, when known
	Tenant string // the tenant acted for or asked for
	Remote string
	Method string
	Path   string
	Status int
	Reason string
}

// Auditor takes audit events; it must not block.
type Auditor interface{ Audit(Event) }

// Guard is the HTTP edge with authentication on.
type Guard struct {
	keys  *Store
	audit Auditor
	log   *slog.Logger
}

// NewGuard returns the edge that authenticates with keys and reports
// refusals and admin actions to audit (nil: none).
func NewGuard(keys *Store, audit Auditor, log *slog.Logger) *Guard {
	return &Guard{keys: keys, audit: audit, log: log}
}

// Keys is the guard's key store.
func (g *Guard) Keys() *Store { return g.keys }

type principalKey struct{}
type credentialKey struct{}

// PrincipalFrom returns the caller of an authenticated request, or nil
// when authentication is off.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// WithPrincipal returns ctx carrying p (for tests and internal callers).
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// CredentialFrom returns the Authorization value the request came with,
// for a querier to pass on to its indexers, which check it themselves.
func CredentialFrom(ctx context.Context) string {
	c, _ := ctx.Value(credentialKey{}).(string)
	return c
}

// WithCredential returns ctx carrying an Authorization value to pass on.
func WithCredential(ctx context.Context, authz string) context.Context {
	return context.WithValue(ctx, credentialKey{}, authz)
}

// Require wraps next: the request must carry a valid key with role (any
// role for RoleAny); for RoleIngest and RoleQuery the tenant it acts for is
// decided from the key and X-Scope-OrgID. A nil Guard is authentication
// off: the tenant is the header's, checked (tenant.FromHeader).
func (g *Guard) Require(role Role, next http.Handler) http.Handler {
	if g == nil {
		if role == RoleIngest || role == RoleQuery {
			return tenant.FromHeader(next)
		}
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		authz := r.Header.Get("Authorization")
		asked := r.Header.Get(tenant.Header)
		p, t, code, err := g.Decide(authz, asked, role)
		if err != nil {
			g.refuse(w, r, p, asked, code, err)
			return
		}
		ctx := WithCredential(WithPrincipal(r.Context(), p), authz)
		if role == RoleIngest || role == RoleQuery {
			ctx = tenant.With(ctx, t)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// Decide is the guard's whole decision for a credential (an Authorization
// value), the tenant asked for and the role a route needs: the caller, the
// tenant, or the status to refuse with (401 or 403) and why. Receivers
// outside HTTP (OTLP gRPC) call it with their own metadata.
func (g *Guard) Decide(authz, asked string, role Role) (*Principal, string, int, error) {
	secret, err := Credential(authz)
	if err != nil {
		return nil, "", http.StatusUnauthorized, err
	}
	p, err := g.keys.Authenticate(secret)
	if err != nil {
		return p, "", http.StatusUnauthorized, err
	}
	switch {
	case role == RoleAny:
		return p, "", 0, nil
	case role == RoleQuery && asked == tenant.Audit && p.Has(RoleAdmin):
	case !p.Has(role):
		return p, "", http.StatusForbidden, fmt.Errorf("%w: key %q lacks role %s", ErrForbidden, p.Name, role)
	}
	if role == RoleAdmin {
		return p, "", 0, nil
	}
	t, err := p.Tenant(asked, role)
	if err != nil {
		return p, "", http.StatusForbidden, err
	}
	return p, t, 0, nil
}

// Refused reports a refusal that did not go through Require (a gRPC
// receiver's) to the audit trail.
func (g *Guard) Refused(remote, method, path string, p *Principal, asked string, code int, err error) {
	g.Audit(Event{Action: "refused", Key: nameOf(p), Tenant: asked, Remote: remote, Method: method, Path: path, Status: code, Reason: err.Error()})
}

// Audit records an event (admin actions come from the handlers).
func (g *Guard) Audit(ev Event) {
	if g == nil || g.audit == nil {
		return
	}
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	g.audit.Audit(ev)
}

func nameOf(p *Principal) string {
	if p == nil {
		return ""
	}
	return p.Name
}

func (g *Guard) refuse(w http.ResponseWriter, r *http.Request, p *Principal, asked string, code int, err error) {
	g.Refused(r.RemoteAddr, r.Method, r.URL.Path, p, asked, code, err)
	if code == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="sluice"`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	b := append([]byte(`{"error":`), record.AppendJSONString(nil, err.Error())...)
	_, _ = w.Write(append(b, "}\n"...))
}
