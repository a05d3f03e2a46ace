// Package gctune sets the garbage collector for the API server, where the
// standard settings cost more CPU than they save memory: a GraphQL page of
// 100 items allocates ~1.4 MB in ~25k objects and keeps almost none of it,
// so at GOGC=100 the collector ran every few requests and took about a third
// of the server's CPU (`make bench-api`; the figures are in BENCHMARKS.md).
//
// The memory limit bounds what the higher GOGC may cost when a sync runs in
// the same process (its live heap is larger): near the limit the collector
// runs as often as it must. In a container with a memory limit (cgroup v1 or
// v2, read by automemlimit) the soft limit is 70% of it, leaving room for
// what the Go runtime does not count (stacks of idle goroutines, the SQLite
// page cache, fragmentation) before the kernel kills the process; without one,
// 384 MiB. Both are only defaults: GOGC and GOMEMLIMIT, when set, are the Go
// runtime's own and win.
package gctune

import (
	"runtime/debug"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

// Defaults for the server process.
const (
	Percent     = 400
	MemoryLimit = 384 << 20
	// ContainerRatio is the share of a container's memory limit taken as the soft limit.
	ContainerRatio = 0.7
)

// Applied is what Apply did.
type Applied struct {
	Percent     int   // the GC percent now in force (-1: off)
	MemoryLimit int64 // the soft memory limit now in force, in bytes
	// ContainerLimit is the container's memory limit the soft limit follows, 0 when none.
	ContainerLimit uint64
}

// Apply sets the defaults where the environment (read through getenv) does
// not set GOGC or GOMEMLIMIT, and returns the settings in force.
func Apply(getenv func(string) string) Applied {
	return apply(getenv, memlimit.FromCgroup)
}

// apply is Apply with the container's limit read by containerLimit (tests pass their own).
func apply(getenv func(string) string, containerLimit func() (uint64, error)) Applied {
	var container uint64
	if getenv("GOGC") == "" {
		debug.SetGCPercent(Percent)
	}
	if getenv("GOMEMLIMIT") == "" {
		limit := int64(MemoryLimit)
		if l, err := containerLimit(); err == nil && l > 0 {
			container, limit = l, int64(float64(l)*ContainerRatio)
		}
		debug.SetMemoryLimit(limit)
	}
	// Reading a setting means setting it; put back what was just read.
	percent := debug.SetGCPercent(-1)
	debug.SetGCPercent(percent)
	return Applied{Percent: percent, MemoryLimit: debug.SetMemoryLimit(-1), ContainerLimit: container}
}
