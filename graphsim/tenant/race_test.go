//go:build race

package tenant

// The race detector slows the property tests about twentyfold; fewer seeds
// still exercise the same paths concurrently.
const raceEnabled = true
