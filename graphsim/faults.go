package graphsim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
)

// FaultKinds are the fault names Options.FaultKinds and POST /_sim/faults take.
func FaultKinds() []string {
	return []string{"429", "503", "504", "reset", "truncated", "slow", "401", "repeat"}
}

func checkFaultKinds(kinds []string) error {
	all := FaultKinds()
	for _, k := range kinds {
		if !slices.Contains(all, k) {
			return fmt.Errorf("unknown fault kind %q (known: %v)", k, all)
		}
	}
	return nil
}

// faultInjector decides, from a seeded source, which Graph request fails and
// how. The sequence is deterministic for a seed and a request order.
type faultInjector struct {
	mu    sync.Mutex
	rng   *rand.Rand
	rate  float64
	kinds []string
}

func newFaultInjector(seed int64, rate float64, kinds []string) *faultInjector {
	f := &faultInjector{rng: rand.New(rand.NewPCG(uint64(seed), 0xfa017))}
	f.set(rate, kinds)
	return f
}

func (f *faultInjector) set(rate float64, kinds []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rate = min(max(rate, 0), 1)
	f.kinds = nil
	for _, k := range kinds {
		if slices.Contains(FaultKinds(), k) {
			f.kinds = append(f.kinds, k)
		}
	}
	if len(f.kinds) == 0 {
		f.kinds = FaultKinds()
	}
}

// pick returns the fault for one request, or "". repeat only applies to
// paged endpoints; elsewhere it is not drawn.
func (f *faultInjector) pick(paged bool) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rate <= 0 || f.rng.Float64() >= f.rate {
		return ""
	}
	kinds := f.kinds
	if !paged && slices.Contains(kinds, "repeat") {
		kinds = slices.DeleteFunc(slices.Clone(kinds), func(k string) bool { return k == "repeat" })
		if len(kinds) == 0 {
			return ""
		}
	}
	return kinds[f.rng.IntN(len(kinds))]
}
