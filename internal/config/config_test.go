package config

import (
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/overshare/overshare/jobs"
)

func env(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

func TestLoadReadsTheEnvironment(t *testing.T) {
	c, err := Load(Serve, env(map[string]string{
		"OVERSHARE_OIDC_ISSUER":       " https://login.example.com/tenant/v2.0 ",
		"OVERSHARE_OIDC_AUDIENCE":     "api://overshare",
		"OVERSHARE_OIDC_ROLES_CLAIM":  "realm_access.roles",
		"OVERSHARE_OIDC_ADMIN_ROLES":  " overshare-admin , , root ",
		"OVERSHARE_OIDC_VIEWER_ROLES": "  ",
		"OVERSHARE_ALLOWED_ORIGINS":   "https://a.example.com, https://b.example.com",
		"OVERSHARE_AUTHORITY_URL":     "https://login.example.test/",
		"OVERSHARE_GRAPH_URL":         "https://graph.example.test/v1.0",
		"OVERSHARE_GRAPH_CA_FILE":     "/etc/overshare/ca.pem",
		"OVERSHARE_SYNC_WORKERS":      "8",
		"OVERSHARE_SCHEDULE_INTERVAL": "30s",
		"OVERSHARE_LOG_LEVEL":         "debug",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.OIDCIssuer != "https://login.example.com/tenant/v2.0" || c.OIDCAudience != "api://overshare" || c.OIDCRolesClaim != "realm_access.roles" {
		t.Errorf("issuer/audience/claim = %q %q %q", c.OIDCIssuer, c.OIDCAudience, c.OIDCRolesClaim)
	}
	if !slices.Equal(c.OIDCAdminRoles, []string{"overshare-admin", "root"}) {
		t.Errorf("admin roles = %q", c.OIDCAdminRoles)
	}
	if !slices.Equal(c.OIDCViewerRoles, []string{"Overshare.Viewer", "viewer"}) {
		t.Errorf("viewer roles = %q, want the defaults", c.OIDCViewerRoles)
	}
	if !slices.Equal(c.AllowedOrigins, []string{"https://a.example.com", "https://b.example.com"}) {
		t.Errorf("allowed origins = %q", c.AllowedOrigins)
	}
	if c.AuthorityURL != "https://login.example.test/" || c.GraphURL != "https://graph.example.test/v1.0" || c.GraphCAFile != "/etc/overshare/ca.pem" {
		t.Errorf("graph endpoints = %q %q %q", c.AuthorityURL, c.GraphURL, c.GraphCAFile)
	}
	if c.SyncWorkers != 8 || c.ScheduleInterval != 30*time.Second || c.LogLevel != slog.LevelDebug {
		t.Errorf("workers/interval/level = %d %v %v", c.SyncWorkers, c.ScheduleInterval, c.LogLevel)
	}
	if c.Addr != ":8080" || c.DataDir != "./data" || c.DatabaseURL != "" {
		t.Errorf("addr/data dir/database = %q %q %q, want the defaults", c.Addr, c.DataDir, c.DatabaseURL)
	}
}

func TestLoadDefaultsAndErrors(t *testing.T) {
	c, err := Load(Serve, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.SyncWorkers != jobs.DefaultWorkers || c.ScheduleInterval != jobs.DefaultPeriodicInterval || c.LogLevel != slog.LevelInfo {
		t.Errorf("defaults: workers %d, interval %v, level %v", c.SyncWorkers, c.ScheduleInterval, c.LogLevel)
	}
	if c.AuthorityURL != "https://login.microsoftonline.com/" || c.GraphURL != "https://graph.microsoft.com/v1.0" {
		t.Errorf("graph endpoints default to %q %q, want Microsoft's", c.AuthorityURL, c.GraphURL)
	}
	for name, value := range map[string]string{"OVERSHARE_SYNC_WORKERS": "0", "OVERSHARE_SCHEDULE_INTERVAL": "soon"} {
		_, err := Load(Serve, env(map[string]string{name: value}))
		if err == nil || !strings.HasPrefix(err.Error(), name+" must be a positive") {
			t.Errorf("%s=%q: %v, want an error naming the variable", name, value, err)
		}
		// A command that does not read the variable does not fail on it.
		if _, err := Load(Migrate, env(map[string]string{name: value})); err != nil {
			t.Errorf("migrate with %s=%q: %v", name, value, err)
		}
	}
	if c, _ := Load(Serve, env(map[string]string{"OVERSHARE_LOG_LEVEL": "chatty"})); c.LogLevel != slog.LevelInfo {
		t.Errorf("an unknown log level gave %v, want info", c.LogLevel)
	}
	if c, _ := Load(Integrate, env(map[string]string{"OVERSHARE_CLIENT_SECRET": " s3cret "})); c.ClientSecret != "s3cret" {
		t.Errorf("client secret = %q", c.ClientSecret)
	}
}

// deploy/README.md documents serve's environment with the table this package holds; the test
// prints the table to paste when they differ.
func TestDeployREADMEListsTheEnvironment(t *testing.T) {
	var b strings.Builder
	b.WriteString("| variable | default | meaning |\n|---|---|---|\n")
	for _, o := range Options() {
		if o.ReadBy(Serve) {
			b.WriteString("| `" + o.Name + "` | " + o.DefaultShown() + " | " + o.Usage + " |\n")
		}
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "deploy", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), b.String()) {
		t.Errorf("deploy/README.md's environment table differs from internal/config; it should read:\n\n%s", b.String())
	}
	seen := map[string]bool{}
	for _, o := range Options() {
		if seen[o.Name] || len(o.Commands) == 0 || o.Usage == "" {
			t.Errorf("option %s: listed twice, or without commands or usage", o.Name)
		}
		seen[o.Name] = true
	}
}

func TestOIDCScopes(t *testing.T) {
	c, err := Load(Serve, env(nil))
	if err != nil || !slices.Equal(c.OIDCScopes, []string{"openid", "profile", "email", "offline_access"}) {
		t.Errorf("default scopes = %q, %v", c.OIDCScopes, err)
	}
	const entra = " openid profile,offline_access  api://8f0e5c1a-4b2d-4e6f-9a7b-0c1d2e3f4a5b/Overshare.Access "
	c, err = Load(Serve, env(map[string]string{"OVERSHARE_OIDC_SCOPES": entra}))
	if err != nil || !slices.Equal(c.OIDCScopes, []string{"openid", "profile", "offline_access", "api://8f0e5c1a-4b2d-4e6f-9a7b-0c1d2e3f4a5b/Overshare.Access"}) {
		t.Errorf("Entra scopes = %q, %v", c.OIDCScopes, err)
	}
	for value, want := range map[string]string{
		"profile email": "must include openid",
		"openid api://a/Overshare.Access https://graph.microsoft.com/User.Read": "two APIs",
		`openid "profile"`:     "not a scope",
		"openid openid":        "twice",
		"openid profile\u00e9": "not a scope",
	} {
		_, err := Load(Serve, env(map[string]string{"OVERSHARE_OIDC_SCOPES": value}))
		if err == nil || !strings.HasPrefix(err.Error(), "OVERSHARE_OIDC_SCOPES ") || !strings.Contains(err.Error(), want) {
			t.Errorf("OVERSHARE_OIDC_SCOPES=%q: %v, want an error naming the variable and %q", value, err, want)
		}
	}
	// Two scopes of one API are one resource.
	if _, err := Load(Serve, env(map[string]string{"OVERSHARE_OIDC_SCOPES": "openid api://a/Read api://a/Write"})); err != nil {
		t.Errorf("two scopes of one API: %v", err)
	}
}

// A variable can come from the file NAME_FILE names (Docker and Kubernetes secrets), trimmed;
// both set, or a file that cannot be read, is refused with the variable named and the value
// never repeated.
func TestValuesFromFiles(t *testing.T) {
	dir := t.TempDir()
	secret := "0123456789abcdef0123456789abcdef-metrics"
	path := filepath.Join(dir, "metrics-token")
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	base := map[string]string{"OVERSHARE_OIDC_ISSUER": "https://idp.example", "OVERSHARE_OIDC_AUDIENCE": "api"}
	with := func(k, v string) map[string]string {
		m := maps.Clone(base)
		m[k] = v
		return m
	}
	c, err := Load(Serve, env(with("OVERSHARE_METRICS_TOKEN_FILE", path)))
	if err != nil || c.MetricsToken != secret {
		t.Fatalf("token from a file: %q, %v", c.MetricsToken, err)
	}
	both := with("OVERSHARE_METRICS_TOKEN_FILE", path)
	both["OVERSHARE_METRICS_TOKEN"] = "another-token-of-enough-length"
	if _, err := Load(Serve, env(both)); err == nil || !strings.Contains(err.Error(), "OVERSHARE_METRICS_TOKEN and OVERSHARE_METRICS_TOKEN_FILE") {
		t.Errorf("both set: %v", err)
	}
	_, err = Load(Serve, env(with("OVERSHARE_METRICS_TOKEN_FILE", filepath.Join(dir, "missing"))))
	if err == nil || !strings.Contains(err.Error(), "OVERSHARE_METRICS_TOKEN_FILE") {
		t.Errorf("missing file: %v", err)
	}
	short := filepath.Join(dir, "short")
	os.WriteFile(short, []byte("tiny-secret"), 0o600)
	_, err = Load(Serve, env(with("OVERSHARE_METRICS_TOKEN_FILE", short)))
	if err == nil || !strings.Contains(err.Error(), "OVERSHARE_METRICS_TOKEN") || strings.Contains(err.Error(), "tiny-secret") {
		t.Errorf("a short token from a file: %v", err)
	}
}
