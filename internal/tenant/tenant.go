// Package tenant owns what a tenant name may be and how a request carries
// its tenant from the edge (the HTTP middleware of internal/auth, or the
// header alone when authentication is off) to the handlers that use it.
// It must not know keys, roles or protocols.
package tenant

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// Header names the request header that chooses the tenant, as Loki, Mimir
// and VictoriaLogs' multitenancy proxies send it. With authentication on it
// only chooses among the tenants of the caller's key.
const Header = "X-Scope-OrgID"

// MaxLen bounds a tenant name in bytes. Every stored record and every
// Kafka message carries its tenant, so a long name costs on every record:
// a 500 KB header once turned a 30 KB request into 954 MB of WAL.
const MaxLen = 64

// Audit is the reserved tenant of the audit trail (internal/audit): no
// receiver writes into it, and only keys with role admin read it. Names
// starting with '_' are reserved for Sluice.
const Audit = "_audit"

// Charset says which names Check accepts, for error messages and docs.
const Charset = "1 to 64 bytes of letters, digits, '-', '_' and '.', starting with a letter or a digit"

// ErrInvalid is the error of a name outside Charset.
var ErrInvalid = errors.New("invalid tenant name")

// Check reports whether name may be a tenant chosen by a client. "" is
// the default tenant and is valid; the reserved names (starting with '_')
// are not, since they are never chosen by a request's header.
func Check(name string) error {
	if name == "" {
		return nil
	}
	if len(name) > MaxLen {
		return fmt.Errorf("%w: %d bytes, at most %d", ErrInvalid, len(name), MaxLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case (c == '-' || c == '_' || c == '.') && i > 0:
		default:
			return fmt.Errorf("%w %q: want %s", ErrInvalid, quoteShort(name), Charset)
		}
	}
	return nil
}

// quoteShort keeps error messages short whatever the name's length.
func quoteShort(s string) string {
	if len(s) > MaxLen {
		return s[:MaxLen] + "…"
	}
	return s
}

type ctxKey struct{}

// With returns ctx carrying the request's tenant.
func With(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, ctxKey{}, name)
}

// From returns the tenant ctx carries and whether it carries one.
func From(ctx context.Context) (string, bool) {
	name, ok := ctx.Value(ctxKey{}).(string)
	return name, ok
}

// Of returns the tenant of r as the edge decided it; "" (the default
// tenant) when no edge did. Handlers never read Header themselves, so that
// a route that was not wrapped writes into the default tenant rather than
// into whichever tenant a client names.
func Of(r *http.Request) string {
	name, _ := From(r.Context())
	return name
}

// FromHeader is the edge when authentication is off: the tenant is what
// Header says, once checked; a name outside Charset gets 400.
func FromHeader(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.Header.Get(Header)
		if err := Check(name); err != nil {
			http.Error(w, fmt.Sprintf("header %s: %v", Header, err), http.StatusBadRequest)
			return
		}
		next.ServeHTTP(w, r.WithContext(With(r.Context(), name)))
	})
}
