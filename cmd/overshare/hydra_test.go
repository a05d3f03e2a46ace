package main

import (
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/overshare/overshare/graphsim/tenant"
	"github.com/overshare/overshare/internal/hydratest"
)

// TestServeWithHydra: `overshare serve` behind a certified OpenID provider it did not write (Ory
// Hydra v2 on PostgreSQL). A person signs in as the dashboard does (code + PKCE through Hydra's
// login and consent) and gets their role from the token; a viewer is refused admin data; a
// script's client-credentials token works; and after Hydra rotates its signing key, new tokens
// are accepted within seconds while the server runs, and old ones still are.
func TestServeWithHydra(t *testing.T) {
	h := hydratest.Start(t)
	const spa, redirect = "overshare-spa", "http://127.0.0.1:1/auth/callback"
	h.PublicClient(t, spa, redirect)
	h.User("alice", "overshare-admin")
	h.User("victor", "overshare-viewer")
	h.ScriptClient(t, "nightly-report", "a-script-secret-of-some-length", "overshare-admin")

	w := newServeWorld(t, tenant.Config{Seed: 23, Users: 3, FilesPerUser: 5})
	for k, v := range hydraServeEnv(h, spa) {
		t.Setenv(k, v)
	}
	p := startServe(t)
	df := w.api(p)
	type viewer struct {
		Viewer struct {
			Subject string
			Roles   []string
		}
	}
	who := func(tok string) viewer {
		t.Helper()
		var v viewer
		query(t, df, tok, `{ viewer { subject roles } }`, nil, &v)
		return v
	}

	alice := h.SignIn(t, spa, redirect, "alice")
	if v := who(alice); v.Viewer.Subject != "alice" || !slices.Contains(v.Viewer.Roles, "ADMIN") {
		t.Errorf("alice signed in through Hydra: %+v", v)
	}
	victor := h.SignIn(t, spa, redirect, "victor")
	if v := who(victor); !slices.Equal(v.Viewer.Roles, []string{"VIEWER"}) {
		t.Errorf("victor signed in through Hydra: %+v", v)
	}
	if code := queryError(t, df, victor, `{ integrations { id name } }`); code != "FORBIDDEN" {
		t.Errorf("a viewer's admin query answered %q, want FORBIDDEN", code)
	}
	script := h.ClientCredentials(t, "nightly-report", "a-script-secret-of-some-length")
	if v := who(script); v.Viewer.Subject != "nightly-report" || !slices.Contains(v.Viewer.Roles, "ADMIN") {
		t.Errorf("the script's client-credentials token: %+v", v)
	}

	h.RotateKey(t)
	fresh := h.SignIn(t, spa, redirect, "alice")
	// The verifier looks for a new key at most every 10 s (auth/keyset.go).
	deadline := time.Now().Add(15 * time.Second)
	for {
		data, errs := post(t, df, fresh, `{ viewer { subject } }`, nil)
		if len(errs) == 0 && strings.Contains(string(data), "alice") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a token signed with Hydra's new key is still refused 15 s after the rotation: %+v", errs)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if v := who(alice); v.Viewer.Subject != "alice" {
		t.Errorf("a token signed before the rotation: %+v", v)
	}
	p.stop(t)
}

// TestBrowserSignInWithHydra: the dashboard in Debian's chromium signs people in through Hydra
// (frontend/e2e/signin-hydra.mjs). A browser test: `make test-e2e` runs it.
func TestBrowserSignInWithHydra(t *testing.T) {
	if os.Getenv("OVERSHARE_TEST_BROWSER") == "" {
		t.Skip("a browser test: make test-e2e runs it (OVERSHARE_TEST_BROWSER=1)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	base := "http://" + addr
	h := hydratest.StartWith(t, hydratest.Options{CORSOrigins: []string{base}})
	const spa = "overshare-spa"
	h.PublicClient(t, spa, base+"/auth/callback", base+"/auth/silent")
	h.User("alice", "overshare-admin")
	h.User("victor", "overshare-viewer")
	newServeWorld(t, tenant.Config{Seed: 24, Users: 3, FilesPerUser: 5})
	for k, v := range hydraServeEnv(h, spa) {
		t.Setenv(k, v)
	}
	t.Setenv("OVERSHARE_OIDC_AUDIENCE_PARAM", "true")
	p := startServe(t, "OVERSHARE_ADDR="+addr)
	cmd := exec.Command("node", "e2e/signin-hydra.mjs", base, h.Issuer)
	cmd.Dir = "../../frontend"
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("the browser's sign-in through Hydra failed: %v", err)
	}
	p.stop(t)
}

// hydraServeEnv is the server's OIDC settings for Hydra and the dashboard's client spa.
func hydraServeEnv(h *hydratest.Provider, spa string) map[string]string {
	return map[string]string{
		"OVERSHARE_OIDC_ISSUER":       h.Issuer,
		"OVERSHARE_OIDC_AUDIENCE":     hydratest.Audience,
		"OVERSHARE_OIDC_CLIENT_ID":    spa,
		"OVERSHARE_OIDC_ROLES_CLAIM":  "roles",
		"OVERSHARE_OIDC_ADMIN_ROLES":  "overshare-admin",
		"OVERSHARE_OIDC_VIEWER_ROLES": "overshare-viewer",
		"OVERSHARE_OIDC_SCOPES":       "openid profile email",
	}
}
