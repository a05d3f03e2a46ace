package main

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

func runVersion(_ context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlagSet("version", "[-v]", "Prints the version: the one `make build` writes in, else the module version or the\n"+
		"git commit (with -dirty for uncommitted changes) that `go build` recorded; \"dev\" only\n"+
		"when the binary was built without either (go build -buildvcs=false).", "", stdout)
	verbose := fs.Bool("v", false, "also print the Go version and the build's version control information")
	if err := fs.parseNoArgs(args); err != nil {
		return err
	}
	if _, err := fmt.Fprintln(stdout, currentVersion()); err != nil || !*verbose {
		return err
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		_, err := fmt.Fprintln(stdout, "no build information")
		return err
	}
	fmt.Fprintf(stdout, "go\t%s\nmodule\t%s %s\n", info.GoVersion, info.Main.Path, info.Main.Version)
	for _, s := range info.Settings {
		if strings.HasPrefix(s.Key, "vcs") {
			fmt.Fprintf(stdout, "%s\t%s\n", s.Key, s.Value)
		}
	}
	return nil
}

// currentVersion is this binary's version (see versionOf).
func currentVersion() string {
	return versionOf(version, debug.ReadBuildInfo)
}

// versionOf is the version set by -ldflags when it was (anything but "dev"); otherwise the
// build information's: the main module's version when built as a module (go install …@v1.2.3),
// else the commit go build recorded, shortened, with "-dirty" when the tree had changes. "dev"
// only when there is nothing better.
func versionOf(ldflags string, buildInfo func() (*debug.BuildInfo, bool)) string {
	if ldflags != "" && ldflags != "dev" {
		return ldflags
	}
	info, ok := buildInfo()
	if !ok || info == nil {
		return "dev"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev string
	dirty := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "dev"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return rev
}
