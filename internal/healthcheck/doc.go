// Package healthcheck is the client side of a server's /healthz and /readyz:
// one GET against a local Sluice server, answered as a pass or as a one-line
// reason. It exists because the container image has no shell, wget or curl
// for Docker's HEALTHCHECK and compose's healthcheck to call; Kubernetes
// probes the same endpoints with httpGet and needs none of this.
//
// It knows nothing of the server's internals: only the endpoint paths and
// that 200 means healthy (docs/api.md).
package healthcheck
