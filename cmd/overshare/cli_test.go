package main

import (
	"bytes"
	"runtime/debug"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/overshare/overshare/events"
	"github.com/overshare/overshare/internal/config"
)

// runCLI runs the command line as main does and returns what it printed and its exit status.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return out.String(), errOut.String(), code
}

// Help is on stdout: the overview (a bare `overshare` too, though it exits 2 for want of a
// command), every command's --help with its flags and every variable the command reads.
func TestHelpGoesToStdout(t *testing.T) {
	for _, args := range [][]string{{}, {"help"}, {"--help"}, {"-h"}} {
		out, errOut, code := runCLI(t, args...)
		want := 0
		if len(args) == 0 {
			want = 2
		}
		if code != want || errOut != "" || !strings.Contains(out, "usage: overshare <command>") {
			t.Errorf("overshare %v: exit %d (want %d), stderr %q, stdout:\n%s", args, code, want, errOut, out)
		}
		for _, c := range commands() {
			if !strings.Contains(out, "  "+c.name+" ") {
				t.Errorf("overshare %v does not list %s", args, c.name)
			}
		}
	}
	readers := map[string]string{"serve": config.Serve, "migrate": config.Migrate, "sync": config.Sync, "integrate": config.Integrate,
		"integrations": config.Integrations, "pause": config.Pause, "resume": config.Resume, "export": config.Export}
	for _, c := range commands() {
		out, errOut, code := runCLI(t, c.name, "--help")
		if code != 0 || errOut != "" || !strings.HasPrefix(out, "usage: overshare "+c.name) {
			t.Errorf("%s --help: exit %d, stderr %q, stdout:\n%s", c.name, code, errOut, out)
		}
		n := 0
		for _, o := range config.Options() {
			if env, ok := readers[c.name]; ok && o.ReadBy(env) {
				n++
				if !strings.Contains(out, "\n  "+o.Name+"\n") {
					t.Errorf("%s --help does not list %s, which it reads", c.name, o.Name)
				}
			}
		}
		if _, reads := readers[c.name]; reads && (n == 0 || !strings.Contains(out, "environment:")) {
			t.Errorf("%s --help lists no environment", c.name)
		}
	}
	if out, _, _ := runCLI(t, "sync", "--help"); !strings.Contains(out, "-integration") || !strings.Contains(out, "-full") {
		t.Errorf("sync --help does not list its flags:\n%s", out)
	}
}

// `overshare help <command>` is `overshare <command> --help`; an unknown command is said on
// stderr with exit status 2, as are a wrong flag and a missing argument.
func TestHelpCommandAndMistakes(t *testing.T) {
	want, _, _ := runCLI(t, "sync", "--help")
	out, errOut, code := runCLI(t, "help", "sync")
	if code != 0 || errOut != "" || out != want {
		t.Errorf("help sync: exit %d, stderr %q, stdout differs from sync --help:\n%s", code, errOut, out)
	}
	for _, args := range [][]string{{"nonsense"}, {"help", "nonsense"}} {
		out, errOut, code := runCLI(t, args...)
		if code != 2 || out != "" || !strings.Contains(errOut, `unknown command "nonsense"`) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
	for _, args := range [][]string{{"sync", "--no-such-flag"}, {"sync"}, {"sync", "--integration", "x", "extra"}, {"pause"}, {"export", "--integration", "x", "--scope", "everyone"}} {
		out, errOut, code := runCLI(t, args...)
		if code != 2 || out != "" || !strings.Contains(errOut, "overshare help "+args[0]) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2 and a pointer to the help", args, code, out, errOut)
		}
	}
}

// The version comes from -ldflags, else from what go build recorded; "dev" only when nothing
// is known.
func TestVersionFromBuildInfo(t *testing.T) {
	info := func(version string, settings ...string) func() (*debug.BuildInfo, bool) {
		return func() (*debug.BuildInfo, bool) {
			bi := &debug.BuildInfo{Main: debug.Module{Path: "github.com/overshare/overshare", Version: version}}
			for i := 0; i+1 < len(settings); i += 2 {
				bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
			}
			return bi, true
		}
	}
	const rev = "1b08af5184b09722cf56f505326199d630538dd3"
	for _, c := range []struct {
		ldflags string
		info    func() (*debug.BuildInfo, bool)
		want    string
	}{
		{"v1.4.0", info("v0.0.0-x"), "v1.4.0"},
		{"dev", info("v1.2.3"), "v1.2.3"},
		{"", info("(devel)", "vcs.revision", rev, "vcs.modified", "false"), rev[:12]},
		{"dev", info("(devel)", "vcs.revision", rev, "vcs.modified", "true"), rev[:12] + "-dirty"},
		{"dev", info("(devel)"), "dev"},
		{"dev", func() (*debug.BuildInfo, bool) { return nil, false }, "dev"},
	} {
		if got := versionOf(c.ldflags, c.info); got != c.want {
			t.Errorf("versionOf(%q, …) = %q, want %q", c.ldflags, got, c.want)
		}
	}
	out, errOut, code := runCLI(t, "version")
	if code != 0 || errOut != "" || out != currentVersion()+"\n" {
		t.Errorf("version: exit %d, stderr %q, stdout %q", code, errOut, out)
	}
}

// On a terminal the progress line never reaches the right margin, whatever the width; it keeps
// the bar when there is room; off a terminal it is the full line, without a bar.
func TestProgressLineFitsTheTerminal(t *testing.T) {
	eta := 3725
	p := events.Progress{RunID: "r", Phase: "drives", DrivesDone: 123, DrivesTotal: 4567, ItemsSeen: 12345678, SharedItems: 234567,
		PermissionsRead: 345678, Requests: 456789, ResourceUnits: 1234567, ThrottledWaits: 12, ETASeconds: &eta}
	full := progressLine(p, 0)
	for _, want := range []string{"drives 123/4567", "items 12345678", "shared 234567", "permissions 345678", "requests 456789", "RU 1234567", "throttled 12", "ETA 1h2m5s"} {
		if !strings.Contains(full, want) {
			t.Errorf("the full line %q lacks %q", full, want)
		}
	}
	if strings.Contains(full, "[") {
		t.Errorf("the line off a terminal has a bar: %q", full)
	}
	prev := 0
	for width := 10; width <= 240; width++ {
		l := progressLine(p, width)
		n := utf8.RuneCountInString(l)
		if n >= width {
			t.Fatalf("width %d: the line has %d columns: %q", width, n, l)
		}
		if n < prev {
			t.Errorf("width %d: the line got shorter (%d < %d) on a wider terminal: %q", width, n, prev, l)
		}
		prev = n
		if width >= 80 && !strings.Contains(l, "drives 123/4567") {
			t.Errorf("width %d: %q lost the drive count", width, l)
		}
	}
	if l := progressLine(p, 80); !strings.Contains(l, "ETA") {
		t.Errorf("at 80 columns the ETA is gone: %q", l)
	}
	if l := progressLine(p, 240); !strings.HasPrefix(l, "[") || !strings.Contains(l, "requests 456789") {
		t.Errorf("a wide terminal shows no bar or not every field: %q", l)
	}

	// As showProgress draws it: redrawn in place on a terminal of 50 columns, whole lines
	// otherwise.
	updates := func() <-chan events.Progress {
		ch := make(chan events.Progress, 3)
		ch <- p
		ch <- p
		close(ch)
		return ch
	}
	var tty, plain bytes.Buffer
	showProgress(&tty, updates(), func() int { return 50 }, time.Hour)
	draws := strings.Split(strings.TrimSuffix(tty.String(), "\n"), "\r\033[K")
	if len(draws) != 3 || draws[0] != "" {
		t.Fatalf("the terminal got %q", tty.String())
	}
	for _, d := range draws[1:] {
		if utf8.RuneCountInString(d) >= 50 {
			t.Errorf("a redraw of %d columns on a terminal of 50: %q", utf8.RuneCountInString(d), d)
		}
	}
	showProgress(&plain, updates(), nil, time.Hour)
	if plain.String() != full+"\n" {
		t.Errorf("off a terminal: %q, want the full line once", plain.String())
	}
}
