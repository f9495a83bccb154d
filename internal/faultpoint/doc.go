// Package faultpoint lets a test crash the real binary at a named step of a
// durability protocol (after the WAL fsync, between a part's write and the
// manifest entry that makes it live, before an offset commit…), so that
// recovery from every crash point can be tested without strace or luck.
//
// A step is declared once, where it happens, with New("name") and marked
// with Hit. The points are compiled into every build and are inert: Hit
// costs one load of a boolean unless the environment variable SLUICE_FAULT
// names that point when the process starts. Then the Nth Hit (SLUICE_FAULT=
// name:N; N defaults to 1) writes one line to stderr and sends SIGKILL to
// its own process: no deferred function, no flush, no shutdown runs, exactly
// as with kill -9 at that instruction.
//
// The package knows nothing of what its points guard; it must not import
// other Sluice packages.
package faultpoint
