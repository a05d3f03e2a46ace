package graph

// Resolver is the root resolver; its dependencies are set by New.
type Resolver struct{}
