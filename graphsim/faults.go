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
//
// Whether a request fails is drawn at the rate; which kind it gets is dealt
// from a shuffled deck of the kinds, so every kind comes up once in each
// len(kinds) faults. Drawing the kind independently left a test's run of a
// few dozen faults without any 429 now and then, and a fault mix that did
// not run proved nothing.
type faultInjector struct {
	mu    sync.Mutex
	rng   *rand.Rand
	rate  float64
	kinds []string
	deck  []string // kinds still to deal in this round
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
	f.deck = nil
}

// refill deals a new round; a kind still waiting in the deck (repeat, when
// only unpaged requests failed) is not added twice, so the deck stays small.
func (f *faultInjector) refill() {
	fresh := slices.DeleteFunc(slices.Clone(f.kinds), func(k string) bool { return slices.Contains(f.deck, k) })
	f.rng.Shuffle(len(fresh), func(i, j int) { fresh[i], fresh[j] = fresh[j], fresh[i] })
	f.deck = append(f.deck, fresh...)
}

// pick returns the fault for one request, or "". repeat only applies to
// paged endpoints: elsewhere it stays in the deck for the next paged fault.
func (f *faultInjector) pick(paged bool) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rate <= 0 || f.rng.Float64() >= f.rate {
		return ""
	}
	if !paged && !slices.ContainsFunc(f.kinds, func(k string) bool { return k != "repeat" }) {
		return ""
	}
	for {
		for i, k := range f.deck {
			if paged || k != "repeat" {
				f.deck = slices.Delete(f.deck, i, i+1)
				return k
			}
		}
		f.refill()
	}
}
