package config

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/overshare/overshare/auth"
	"github.com/overshare/overshare/auth/devidp"
	"github.com/overshare/overshare/auth/devidp/devidptest"
)

// Docker cannot run on the development machines, so docker-compose.yml and the Keycloak realm
// it imports are checked here instead: against this package's table, against each other, and
// by signing in with the realm's users and clients through the development provider's Keycloak
// profile, which refuses what Keycloak refuses (deploy/README.md, "Identity providers").

type compose struct {
	Services map[string]struct {
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Volumes     []string          `yaml:"volumes"`
		Ports       []string          `yaml:"ports"`
	} `yaml:"services"`
}

type realm struct {
	Realm string `json:"realm"`
	Roles struct {
		Realm []struct {
			Name string `json:"name"`
		} `json:"realm"`
	} `json:"roles"`
	Users []struct {
		Username    string `json:"username"`
		Enabled     bool   `json:"enabled"`
		Name        string `json:"firstName"`
		Email       string `json:"email"`
		Credentials []struct {
			Type  string `json:"type"`
			Value string `json:"value"`
		} `json:"credentials"`
		RealmRoles             []string `json:"realmRoles"`
		ServiceAccountClientID string   `json:"serviceAccountClientId"`
	} `json:"users"`
	Clients []struct {
		ClientID               string            `json:"clientId"`
		Enabled                bool              `json:"enabled"`
		PublicClient           bool              `json:"publicClient"`
		Secret                 string            `json:"secret"`
		StandardFlowEnabled    bool              `json:"standardFlowEnabled"`
		ServiceAccountsEnabled bool              `json:"serviceAccountsEnabled"`
		RedirectURIs           []string          `json:"redirectUris"`
		WebOrigins             []string          `json:"webOrigins"`
		Attributes             map[string]string `json:"attributes"`
		ProtocolMappers        []struct {
			ProtocolMapper string            `json:"protocolMapper"`
			Config         map[string]string `json:"config"`
		} `json:"protocolMappers"`
	} `json:"clients"`
}

// composeValue resolves Compose's ${VAR:-default} and ${VAR} the way an empty shell would.
var composeVar = regexp.MustCompile(`\$\{[A-Za-z_][A-Za-z0-9_]*(?::?-([^}]*))?\}`)

func composeValue(v string) string {
	return composeVar.ReplaceAllString(v, "$1")
}

func readDeployment(t *testing.T) (compose, map[string]string, realm, string) {
	t.Helper()
	root := filepath.Join("..", "..")
	raw, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var c compose
	if err := yaml.Unmarshal(raw, &c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	env := map[string]string{}
	for k, v := range c.Services["overshare"].Environment {
		env[k] = composeValue(v)
	}
	// Commented-out variables are documentation a reader will uncomment: they must exist too.
	for _, m := range regexp.MustCompile(`(?m)^\s*#\s*(OVERSHARE_[A-Z_]+):`).FindAllSubmatch(raw, -1) {
		if _, set := env[string(m[1])]; !set {
			env[string(m[1])+"#commented"] = ""
		}
	}
	// The realm is what the Keycloak service imports.
	var realmDir string
	for _, v := range c.Services["keycloak"].Volumes {
		if host, target, _ := strings.Cut(v, ":"); strings.HasPrefix(target, "/opt/keycloak/data/import") {
			realmDir = host
		}
	}
	if realmDir == "" || !slices.Contains(c.Services["keycloak"].Command, "--import-realm") {
		t.Fatal("the keycloak service imports no realm directory")
	}
	path := filepath.Join(root, realmDir, "overshare-realm.json")
	rawRealm, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r realm
	if err := json.Unmarshal(rawRealm, &r); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c, env, r, c.Services["keycloak"].Environment["KC_HOSTNAME"]
}

func TestComposeUsesTheConfigurationTable(t *testing.T) {
	_, env, _, _ := readDeployment(t)
	for name := range env {
		name, commented := strings.CutSuffix(name, "#commented")
		i := slices.IndexFunc(Options(), func(o Option) bool { return o.Name == name })
		switch {
		case i < 0:
			t.Errorf("docker-compose.yml sets %s, which internal/config does not know", name)
		case !Options()[i].ReadBy(Serve):
			t.Errorf("docker-compose.yml sets %s, which `overshare serve` does not read", name)
		case commented:
			t.Logf("%s is commented out", name)
		}
	}
	c, err := Load(Serve, func(name string) string { return env[name] })
	if err != nil {
		t.Fatalf("docker-compose.yml's environment is refused at start: %v", err)
	}
	if c.OIDCIssuer == "" || c.OIDCAudience == "" || c.OIDCClientID == "" || c.PublicURL == "" {
		t.Errorf("docker-compose.yml leaves a required sign-in setting empty: %+v", c)
	}
}

func TestRealmMatchesCompose(t *testing.T) {
	c, env, r, kcHost := readDeployment(t)
	cfg, err := Load(Serve, func(name string) string { return env[name] })
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.TrimSuffix(kcHost, "/") + "/realms/" + r.Realm; cfg.OIDCIssuer != want {
		t.Errorf("OVERSHARE_OIDC_ISSUER %s, but Keycloak names the realm's issuer %s", cfg.OIDCIssuer, want)
	}
	if u, _ := url.Parse(kcHost); !slices.ContainsFunc(c.Services["keycloak"].Ports, func(p string) bool {
		return strings.HasPrefix(p, `"`+u.Port()+":") || strings.HasPrefix(p, u.Port()+":")
	}) {
		t.Errorf("Keycloak's hostname %s is not on a published port %v: the browser could not reach it", kcHost, c.Services["keycloak"].Ports)
	}

	public := strings.TrimSuffix(cfg.PublicURL, "/")
	spa := -1
	for i, cl := range r.Clients {
		if cl.ClientID == cfg.OIDCClientID {
			spa = i
		}
	}
	if spa < 0 {
		t.Fatalf("the realm has no client %q (OVERSHARE_OIDC_CLIENT_ID)", cfg.OIDCClientID)
	}
	cl := r.Clients[spa]
	if !cl.Enabled || !cl.PublicClient || !cl.StandardFlowEnabled || cl.Attributes["pkce.code.challenge.method"] != "S256" {
		t.Errorf("client %s: enabled %v, public %v, standard flow %v, PKCE %q; the dashboard needs all, with S256",
			cl.ClientID, cl.Enabled, cl.PublicClient, cl.StandardFlowEnabled, cl.Attributes["pkce.code.challenge.method"])
	}
	// The SPA's own redirect URIs (frontend/src/Root.tsx) at the address Compose publishes.
	for _, p := range []string{"/auth/callback", "/auth/silent"} {
		if !slices.Contains(cl.RedirectURIs, public+p) {
			t.Errorf("client %s: redirectUris %v lack %s", cl.ClientID, cl.RedirectURIs, public+p)
		}
	}
	if !slices.Contains(cl.WebOrigins, public) && !slices.Contains(cl.WebOrigins, "+") {
		t.Errorf("client %s: webOrigins %v lack %s (the token request is a cross-origin fetch)", cl.ClientID, cl.WebOrigins, public)
	}
	if !strings.HasPrefix(public+"/", strings.TrimSuffix(cl.Attributes["post.logout.redirect.uris"], "*")) {
		t.Errorf("client %s: post.logout.redirect.uris %q does not allow %s/", cl.ClientID, cl.Attributes["post.logout.redirect.uris"], public)
	}

	// Roles: the realm's, held by the users, named by the settings.
	var roles []string
	for _, role := range r.Roles.Realm {
		roles = append(roles, role.Name)
	}
	for _, v := range append(append([]string{}, cfg.OIDCAdminRoles...), cfg.OIDCViewerRoles...) {
		if !slices.Contains(roles, v) {
			t.Errorf("role %q of OVERSHARE_OIDC_ADMIN_ROLES/VIEWER_ROLES is not a realm role %v", v, roles)
		}
	}
	if cfg.OIDCRolesClaim != "realm_access.roles" {
		t.Errorf("OVERSHARE_OIDC_ROLES_CLAIM %q: Keycloak puts realm roles in realm_access.roles", cfg.OIDCRolesClaim)
	}
	// Keycloak refuses offline_access to a user without that role, and imported users get no
	// default roles: asking for it is only right when every person holds it.
	if slices.Contains(cfg.OIDCScopes, "offline_access") {
		for _, u := range r.Users {
			if u.ServiceAccountClientID == "" && !slices.Contains(u.RealmRoles, "offline_access") {
				t.Errorf("OVERSHARE_OIDC_SCOPES asks for offline_access, which Keycloak refuses to %s (no offline_access role)", u.Username)
			}
		}
	}
}

// realmProvider serves the realm's users and clients with the development provider in
// Keycloak's shape; it returns the issuer and the people's passwords.
func realmProvider(t *testing.T, r realm, cfg Config) (string, map[string]string) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	opts := devidp.Options{Issuer: base + "/realms/" + r.Realm, Profile: devidp.ProfileKeycloak}
	audienceOf := func(i int) string {
		for _, m := range r.Clients[i].ProtocolMappers {
			if m.ProtocolMapper == "oidc-audience-mapper" && m.Config["access.token.claim"] == "true" {
				return m.Config["included.custom.audience"]
			}
		}
		return ""
	}
	people := map[string]string{} // username → password
	for i, cl := range r.Clients {
		c := devidp.Client{ID: cl.ClientID, Secret: cl.Secret, RedirectURIs: cl.RedirectURIs, Audience: audienceOf(i)}
		if c.Audience == "" {
			c.Audience = "account" // Keycloak's own when no mapper adds the API
		}
		for _, u := range r.Users {
			if u.ServiceAccountClientID == cl.ClientID {
				c.Roles = u.RealmRoles
			}
		}
		opts.Clients = append(opts.Clients, c)
	}
	for _, u := range r.Users {
		if u.ServiceAccountClientID != "" || !u.Enabled {
			continue
		}
		for _, cr := range u.Credentials {
			if cr.Type == "password" {
				people[u.Username] = cr.Value
				opts.Users = append(opts.Users, devidp.User{Username: u.Username, Password: cr.Value, Name: u.Name, Email: u.Email, Roles: u.RealmRoles})
			}
		}
	}
	opts.Audience = cfg.OIDCAudience // the provider's default; every client above names its own
	p, err := devidp.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = p
	srv.Start()
	t.Cleanup(srv.Close)
	return opts.Issuer, people
}

// The realm's users and clients sign in with the Compose settings and get the roles the realm
// gives them.
func TestRealmSignsInWithComposeSettings(t *testing.T) {
	_, env, r, _ := readDeployment(t)
	cfg, err := Load(Serve, func(name string) string { return env[name] })
	if err != nil {
		t.Fatal(err)
	}
	issuer, people := realmProvider(t, r, cfg)
	v, err := auth.NewVerifier(context.Background(), auth.Config{Issuer: issuer, Audience: cfg.OIDCAudience,
		RolesClaim: cfg.OIDCRolesClaim, AdminValues: cfg.OIDCAdminRoles, ViewerValues: cfg.OIDCViewerRoles, Scopes: cfg.OIDCScopes})
	if err != nil {
		t.Fatal(err)
	}
	public := strings.TrimSuffix(cfg.PublicURL, "/")
	want := map[string][]auth.Role{"admin": {auth.RoleAdmin, auth.RoleViewer}, "viewer": {auth.RoleViewer}}
	if len(people) != len(want) {
		t.Errorf("the realm's people %v, the test expects %v", people, want)
	}
	for user, password := range people {
		tok, err := devidptest.NewBrowser(nil).LoginScope(context.Background(), issuer, cfg.OIDCClientID,
			public+"/auth/callback", user, password, strings.Join(cfg.OIDCScopes, " "))
		if err != nil {
			t.Errorf("%s signs in with OVERSHARE_OIDC_SCOPES=%q: %v", user, strings.Join(cfg.OIDCScopes, " "), err)
			continue
		}
		got, err := v.Verify(context.Background(), tok.AccessToken)
		if err != nil || !slices.Equal(got.Roles, want[user]) {
			t.Errorf("%s's token: %+v, %v; want roles %v", user, got, err, want[user])
		}
		if tok.RefreshToken == "" {
			t.Errorf("%s got no refresh token: the dashboard's session would end with its first token", user)
		}
	}
	for _, cl := range r.Clients {
		if !cl.ServiceAccountsEnabled {
			continue
		}
		tok, err := devidptest.ClientCredentials(context.Background(), nil, issuer+"/token", cl.ClientID, cl.Secret)
		if err != nil {
			t.Errorf("script %s: %v", cl.ClientID, err)
			continue
		}
		if got, err := v.Verify(context.Background(), tok.AccessToken); err != nil || len(got.Roles) == 0 {
			t.Errorf("script %s's token: %+v, %v; want a role", cl.ClientID, got, err)
		}
	}
}

// The dashboard's old scopes (still the default) ask for offline_access, which Keycloak refuses
// to the realm's people, who hold no offline_access role: the shipped setup could not sign in.
func TestRealmRefusesTheDefaultScopes(t *testing.T) {
	_, env, r, _ := readDeployment(t)
	env["OVERSHARE_OIDC_SCOPES"] = ""
	cfg, err := Load(Serve, func(name string) string { return env[name] })
	if err != nil {
		t.Fatal(err)
	}
	issuer, people := realmProvider(t, r, cfg)
	for user, password := range people {
		_, err := devidptest.NewBrowser(nil).LoginScope(context.Background(), issuer, cfg.OIDCClientID,
			strings.TrimSuffix(cfg.PublicURL, "/")+"/auth/callback", user, password, strings.Join(cfg.OIDCScopes, " "))
		var te *devidptest.TokenError
		if !errors.As(err, &te) || te.Code != "not_allowed" {
			t.Errorf("%s with %q: %v, want Keycloak's not_allowed", user, strings.Join(cfg.OIDCScopes, " "), err)
		}
	}
}
