// Package frontend holds the built dashboard (Vite output in dist/) so the
// overshare binary serves it without any files next to it.
package frontend

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// Dist returns the built SPA rooted at dist (index.html at the top).
func Dist() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		// fs.Sub only fails on an invalid path; "dist" is a constant.
		panic(err)
	}
	return sub
}
