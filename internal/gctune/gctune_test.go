package gctune

import (
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
			got := Apply(func(k string) string { return tc.env[k] })
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
