// Package hydra pins Ory Hydra v2, the certified OpenID provider the tests sign in through
// besides the development one (`make hydra` builds bin/hydra from this module's tool
// directive). It is a module of its own so that Hydra's dependencies stay out of Overshare's
// go.mod. The replace of gobuffalo/pop repeats Hydra's own: replaces in a dependency's go.mod
// do not apply, and without it Hydra does not build.
package hydra
