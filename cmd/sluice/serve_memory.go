package main

import (
	"errors"
	"log/slog"
	"math"
	"os"
	"runtime/debug"

	"github.com/KimMachineGun/automemlimit/memlimit"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/gcgoal"
)

// resolveMemoryLimit turns memory_limit: auto into bytes (see
// config.ResolveMemoryLimit) from the memory this process may use: its
// cgroup's limit (v2 or v1, read by automemlimit, the library Prometheus
// uses for the same purpose), else the host's memory.
func resolveMemoryLimit(cfg *config.Config, log *slog.Logger) {
	if cfg.MemoryLimit != config.AutoMemoryLimit {
		return
	}
	var gomemlimit int64
	if os.Getenv("GOMEMLIMIT") != "" {
		// The runtime parsed it at start; a negative input reads it back.
		if v := debug.SetMemoryLimit(-1); v != math.MaxInt64 {
			gomemlimit = v
		}
	}
	available, source := uint64(0), "cgroup"
	limit, err := memlimit.FromCgroup()
	if err == nil {
		available = limit
	} else {
		if !errors.Is(err, memlimit.ErrNoLimit) && !errors.Is(err, memlimit.ErrNoCgroup) {
			log.Warn("cannot read the cgroup's memory limit; using the host's memory", "err", err)
		}
		source = "host"
		if available, err = memlimit.FromSystem(); err != nil {
			log.Warn("cannot read the host's memory; memory_limit falls back to a fixed size", "err", err)
			available, source = 0, "fallback"
		}
	}
	if gomemlimit > 0 {
		source = "GOMEMLIMIT"
	}
	cfg.ResolveMemoryLimit(available, gomemlimit)
	log.Info("memory_limit: auto", "memory_limit", config.ByteSize(cfg.MemoryLimit).String(), "from", source,
		"available", config.ByteSize(available).String(), "fraction", config.MemoryLimitFraction)
}

// applyMemoryLimit sets the Go runtime's soft memory limit from
// memory_limit, so that the garbage collector's headroom (by default as
// much again as the live heap) is bounded by configuration rather than by
// how much the heap happened to hold at its last collection. GOMEMLIMIT in
// the environment was already applied by the runtime and wins: it is how
// container platforms pass their own bound.
//
// Below memory_limit, the soft limit follows the live heap (gcgoal): after
// every collection in which the live heap is above the head's bound
// (twice the flush threshold) it is set to the live heap plus a headroom
// of that bound or the heap's scannable bytes, whichever is larger, so
// that the collector's headroom stops doubling the pointer-free
// transients such a live heap holds (the head at its bound, a merge's
// blocks, bloom filters). The returned func stops it.
func applyMemoryLimit(cfg config.Config, log *slog.Logger) (stop func()) {
	limit := cfg.MemoryLimit
	if env := os.Getenv("GOMEMLIMIT"); env != "" {
		log.Info("soft memory limit from GOMEMLIMIT; memory_limit ignored for the garbage collector", "gomemlimit", env, "memory_limit", limit.String())
		return func() {}
	}
	if limit <= 0 {
		log.Info("no soft memory limit (memory_limit: 0)")
		return func() {}
	}
	debug.SetMemoryLimit(int64(limit))
	_, floor := cfg.HeadBounds()
	t := gcgoal.Start(floor, int64(limit))
	log.Info("soft memory limit set", "memory_limit", limit.String(), "gc_headroom_floor", config.ByteSize(floor).String())
	return t.Stop
}
