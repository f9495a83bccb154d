// Package ui serves Sluice's web UI: the files that web/ builds (Vite,
// TypeScript, Preact, uPlot) into internal/ui/dist, embedded in the binary
// with go:embed so that no Node.js is needed at run time.
//
// It owns only serving those files: index.html for the UI's pages (the root
// and every /ui/ path that is not a file) and the hashed assets under
// /ui/assets/, compressed with gzip for clients that accept it. It knows
// nothing of the API the UI calls; see web/ and docs/ui.md.
package ui
