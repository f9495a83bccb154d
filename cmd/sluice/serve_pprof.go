package main

import (
	"net/http"
	"net/http/pprof"

	"github.com/sluice-log/sluice/internal/auth"
)

// withPprof serves Go's profiler under /debug/pprof/ beside h (http.pprof),
// so that memory and CPU can be profiled on the running binary rather than
// guessed at from benchmarks. With authentication on it needs an admin
// key: profiles show the command line and what the server holds.
func withPprof(h http.Handler, guard *auth.Guard) http.Handler {
	prof := http.NewServeMux()
	prof.HandleFunc("/debug/pprof/", pprof.Index)
	prof.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	prof.HandleFunc("/debug/pprof/profile", pprof.Profile)
	prof.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	prof.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux := http.NewServeMux()
	mux.Handle("/debug/pprof/", guard.Require(auth.RoleAdmin, prof))
	mux.Handle("/", h)
	return mux
}
