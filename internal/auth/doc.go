// Package auth owns who may do what: API keys (stored as SHA-256 hashes in
// a keys file that the server re-reads when it changes), their roles and
// tenants, the credentials shippers send (Bearer, Elasticsearch's ApiKey,
// HTTP basic with the key as password) and the HTTP middleware that turns
// a request's credential into the tenant it acts for.
//
// It must not know protocols' formats, the store or the query language:
// handlers read the tenant through internal/tenant and the caller through
// PrincipalFrom.
package auth
