package gctune

import (
	"errors"
	"math"
	"runtime/debug"
	"testing"
)

func TestApply(t *testing.T) {
	percent := debug.SetGCPercent(100)
	limit := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	})
	for _, tc := range []struct {
		name string
		env  map[string]string
		want Applied
	}{
		{"defaults when unset", nil, Applied{Percent: Percent, MemoryLimit: MemoryLimit}},
		// The runtime read these at start-up (here: 100 and no limit, as set above); Apply
		// must leave them alone.
		{"GOGC and GOMEMLIMIT set win", map[string]string{"GOGC": "100", "GOMEMLIMIT": "off"}, Applied{Percent: 100, MemoryLimit: math.MaxInt64}},
		{"only GOGC set", map[string]string{"GOGC": "100"}, Applied{Percent: 100, MemoryLimit: MemoryLimit}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			debug.SetGCPercent(100)
			debug.SetMemoryLimit(math.MaxInt64)
			got := apply(func(k string) string { return tc.env[k] }, noContainer)
			if got != tc.want {
				t.Fatalf("Apply = %+v, want %+v", got, tc.want)
			}
			if p := debug.SetGCPercent(-1); p != tc.want.Percent {
				t.Fatalf("GC percent in force %d, want %d", p, tc.want.Percent)
			}
			debug.SetGCPercent(tc.want.Percent)
		})
	}
}

func noContainer() (uint64, error) { return 0, errors.New("process is not in cgroup") }

// In a container with a memory limit the soft limit is 70% of it, unless GOMEMLIMIT is set.
func TestApplyFollowsTheContainer(t *testing.T) {
	limit := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() { debug.SetMemoryLimit(limit) })
	gib := uint64(1 << 30)
	oneGiB := func() (uint64, error) { return gib, nil }
	got := apply(func(string) string { return "" }, oneGiB)
	if want := int64(float64(gib) * ContainerRatio); got.MemoryLimit != want || got.ContainerLimit != gib {
		t.Fatalf("in a 1 GiB container: %+v, want a limit of %d", got, want)
	}
	debug.SetMemoryLimit(math.MaxInt64)
	got = apply(func(k string) string { return map[string]string{"GOMEMLIMIT": "off"}[k] }, oneGiB)
	if got.MemoryLimit != math.MaxInt64 || got.ContainerLimit != 0 {
		t.Fatalf("GOMEMLIMIT set in a container: %+v", got)
	}
}
