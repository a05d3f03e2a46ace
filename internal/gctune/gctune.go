// Package gctune sets the garbage collector for the API server, where the
// standard settings cost more CPU than they save memory: a GraphQL page of
// 100 items allocates ~1.4 MB in ~25k objects and keeps almost none of it,
// so at GOGC=100 the collector ran every few requests and took about a third
// of the server's CPU (`make bench-api`; the figures are in BENCHMARKS.md).
//
// The memory limit bounds what the higher GOGC may cost when a sync runs in
// the same process (its live heap is larger): near the limit the collector
// runs as often as it must. Both are only defaults: GOGC and GOMEMLIMIT, when
// set, are the Go runtime's own and win.
package gctune

import (
	"runtime/debug"
)

// Defaults for the server process.
const (
	Percent     = 400
	MemoryLimit = 384 << 20
)

// Applied is what Apply did.
type Applied struct {
	Percent     int   // the GC percent now in force (-1: off)
	MemoryLimit int64 // the soft memory limit now in force, in bytes
}

// Apply sets the defaults where the environment (read through getenv) does
// not set GOGC or GOMEMLIMIT, and returns the settings in force.
func Apply(getenv func(string) string) Applied {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(Percent)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(MemoryLimit)
	}
	// Reading a setting means setting it; put back what was just read.
	percent := debug.SetGCPercent(-1)
	debug.SetGCPercent(percent)
	return Applied{Percent: percent, MemoryLimit: debug.SetMemoryLimit(-1)}
}
