package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/overshare/overshare/internal/config"
)

// `overshare serve --help` lists every variable serve reads, with its default, on stdout.
func TestServeHelpListsTheEnvironment(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"serve", "--help"}, &stdout, &stderr); code != 0 {
		t.Fatalf("serve --help exited %d: %s", code, stderr.String())
	}
	out := stdout.String()
	n := 0
	for _, o := range config.Options() {
		if !o.ReadBy(config.Serve) {
			continue
		}
		n++
		if !strings.Contains(out, "  "+o.Name+"\n") {
			t.Errorf("serve --help does not list %s", o.Name)
		}
	}
	for _, want := range []string{"listen address (default: :8080)", "(default: required)", "(default: 4)"} {
		if !strings.Contains(out, want) {
			t.Errorf("serve --help lacks %q:\n%s", want, out)
		}
	}
	if n < 15 || stderr.Len() != 0 {
		t.Errorf("%d variables listed; stderr %q", n, stderr.String())
	}
}
