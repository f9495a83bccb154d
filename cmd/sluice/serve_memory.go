package main

import (
	"log/slog"
	"os"
	"runtime/debug"

	"github.com/sluice-log/sluice/internal/config"
)

// applyMemoryLimit sets the Go runtime's soft memory limit from
// memory_limit, so that the garbage collector's headroom (by default as
// much again as the live heap) is bounded by configuration rather than by
// how much the heap happened to hold at its last collection. GOMEMLIMIT in
// the environment was already applied by the runtime and wins: it is how
// container platforms pass their own bound.
func applyMemoryLimit(limit config.ByteSize, log *slog.Logger) {
	if env := os.Getenv("GOMEMLIMIT"); env != "" {
		log.Info("soft memory limit from GOMEMLIMIT; memory_limit ignored for the garbage collector", "gomemlimit", env, "memory_limit", limit.String())
		return
	}
	if limit <= 0 {
		log.Info("no soft memory limit (memory_limit: 0)")
		return
	}
	debug.SetMemoryLimit(int64(limit))
	log.Info("soft memory limit set", "memory_limit", limit.String())
}
