package faultpoint

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
)

// EnvVar names the point (and optionally the hit) at which to crash:
// SLUICE_FAULT=wal.synced or SLUICE_FAULT=wal.synced:3.
const EnvVar = "SLUICE_FAULT"

// Point is one named step. The zero value is never armed.
type Point struct {
	name  string
	armed bool         // set once, in New, before any Hit
	at    int64        // crash at this hit
	hits  atomic.Int64 // counted only when armed
}

var (
	mu     sync.Mutex
	points = map[string]*Point{} // the registry of every declared point
)

// New declares a point; name must be unique in the process (New panics on
// a duplicate, a programming error caught by any test that loads the
// package). Call it from a package-level variable so that every point is
// known before main runs.
func New(name string) *Point {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := points[name]; dup {
		panic("faultpoint: point " + name + " declared twice")
	}
	p := &Point{name: name}
	if want, at, err := parseEnv(os.Getenv(EnvVar)); err == nil && want == name {
		p.armed, p.at = true, at
	}
	points[name] = p
	return p
}

// Name returns the point's name.
func (p *Point) Name() string { return p.name }

// Hit marks that the step was reached. It returns at once unless this point
// is armed and this is the hit to crash at; then the process dies by
// SIGKILL and Hit never returns.
func (p *Point) Hit() {
	if !p.armed {
		return
	}
	if p.hits.Add(1) != p.at {
		return
	}
	fmt.Fprintf(os.Stderr, "sluice: fault point %s reached (hit %d, %s): killing the process\n", p.name, p.at, EnvVar)
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // SIGKILL is not delivered synchronously; never run past the point
}

// Names returns every declared point, sorted.
func Names() []string {
	mu.Lock()
	defer mu.Unlock()
	names := make([]string, 0, len(points))
	for n := range points {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Check returns an error when SLUICE_FAULT is set but does not name a
// declared point or has a bad hit count, so that a misspelt step fails the
// start instead of silently never firing. Call it once all packages with
// points are loaded (from main).
func Check() error {
	v := os.Getenv(EnvVar)
	if v == "" {
		return nil
	}
	name, _, err := parseEnv(v)
	if err != nil {
		return err
	}
	mu.Lock()
	_, ok := points[name]
	mu.Unlock()
	if !ok {
		return fmt.Errorf("%s=%s: no such fault point; known: %s", EnvVar, v, strings.Join(Names(), ", "))
	}
	return nil
}

// parseEnv splits "name[:N]".
func parseEnv(v string) (string, int64, error) {
	if v == "" {
		return "", 0, nil
	}
	name, count, hasCount := strings.Cut(v, ":")
	at := int64(1)
	if hasCount {
		n, err := strconv.ParseInt(count, 10, 64)
		if err != nil || n < 1 {
			return "", 0, fmt.Errorf("%s=%s: the hit count after ':' must be a positive integer", EnvVar, v)
		}
		at = n
	}
	if name == "" {
		return "", 0, fmt.Errorf("%s=%s: no point named", EnvVar, v)
	}
	return name, at, nil
}
