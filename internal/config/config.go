// Package config is every OVERSHARE_* environment variable in one table: name, default, parser
// and meaning (Options). cmd/overshare loads it, `overshare serve --help` prints it, and a test
// checks deploy/README.md's table against it. Library packages never read the environment:
// they take their Config structs, which cmd fills from a Config. (The tests have variables of
// their own: OVERSHARE_TEST_DATABASE_URL, read by internal/testdb, and the *_CHILD markers of
// tests that run the binary as a child process.)
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/overshare/overshare/auth"
	"github.com/overshare/overshare/jobs"
	"github.com/overshare/overshare/msgraph"
	"github.com/overshare/overshare/syncer"
)

// Config is the environment, parsed.
type Config struct {
	Addr      string
	PublicURL string

	DatabaseURL string
	DataDir     string
	SecretKey   string

	OIDCIssuer   string
	OIDCAudience string
	OIDCClientID string
	// OIDCAudienceParam: the dashboard names the audience in its sign-in request.
	OIDCAudienceParam bool
	OIDCScopes        []string
	OIDCRolesClaim    string
	OIDCAdminRoles    []string
	OIDCViewerRoles   []string
	AllowedOrigins    []string
	TrustedProxies    []netip.Prefix

	AuthorityURL string
	GraphURL     string
	GraphCAFile  string

	SyncWorkers int
	// RateLimit and RateLimitAddress: /graphql requests a second per principal and per client
	// address (0: off).
	RateLimit, RateLimitAddress int
	ScheduleInterval            time.Duration
	// The syncer's scheduled refreshes (syncer/doc.go, "Scheduled refreshes").
	RootRefreshInterval time.Duration
	SweepInterval       time.Duration
	// DriveRecheckInterval: how long a member without a OneDrive waits before a sync looks again.
	DriveRecheckInterval time.Duration
	// HistoryRetention: how long each item's sharing history is kept.
	HistoryRetention time.Duration
	LogLevel         slog.Level
	// MetricsAddr is the operator's own address for /metrics; MetricsToken serves it on the
	// public address to bearers of the token. Neither: no metrics.
	MetricsAddr  string
	MetricsToken string

	ClientSecret string
}

// The commands that read the environment.
const (
	Serve     = "serve"
	Migrate   = "migrate"
	Sync      = "sync"
	Integrate = "integrate"
	// The admin's commands on an existing database: they read only where it is.
	Integrations = "integrations"
	Pause        = "pause"
	Resume       = "resume"
	Export       = "export"
	// Healthcheck asks the local server whether it is ready.
	Healthcheck = "healthcheck"
)

// Option is one environment variable.
type Option struct {
	Name string
	// Default is the value taken when the variable is unset or blank, as it would be written
	// in the environment; DefaultText, when set, says instead what being unset means.
	Default, DefaultText string
	Usage                string
	// Commands are the overshare commands that read it.
	Commands []string
	// parse sets the variable's field from its value (the default when unset); nil for
	// variables read by others (the Go runtime's, documented here because they matter).
	parse func(c *Config, v string) error
}

// Options is the table, in the order the help and deploy/README.md show it.
func Options() []Option {
	database := []string{Serve, Migrate, Sync, Integrate, Integrations, Pause, Resume, Export}
	secrets := []string{Serve, Migrate, Sync, Integrate}
	graphAPI := []string{Serve, Sync, Integrate}
	serve := []string{Serve}
	return []Option{
		{Name: "OVERSHARE_ADDR", Default: ":8080", Usage: "listen address", Commands: []string{Serve, Healthcheck},
			parse: text(func(c *Config) *string { return &c.Addr })},
		{Name: "OVERSHARE_PUBLIC_URL", DefaultText: "from each request's Host", Usage: "external base URL, told to the dashboard; when https, Microsoft Graph sends change notifications to `<URL>/webhooks/graph` (deploy/README.md, \"Change notifications\")", Commands: serve,
			parse: text(func(c *Config) *string { return &c.PublicURL })},
		{Name: "OVERSHARE_DATABASE_URL", DefaultText: "unset: SQLite in `OVERSHARE_DATA_DIR`", Commands: database,
			Usage: "`postgres://…` URL; migrations (Overshare's and River's) run at start-up and with `overshare migrate`",
			parse: text(func(c *Config) *string { return &c.DatabaseURL })},
		{Name: "OVERSHARE_DATA_DIR", Default: "./data", DefaultText: "`./data` (`/data` in the image)", Usage: "SQLite file and the secret key file", Commands: database,
			parse: text(func(c *Config) *string { return &c.DataDir })},
		{Name: "OVERSHARE_SECRET_KEY", DefaultText: "unset: key file in the data directory", Commands: secrets,
			Usage: "32 bytes, base64 or hex: encrypts the tenants' client secrets",
			parse: text(func(c *Config) *string { return &c.SecretKey })},
		{Name: "OVERSHARE_OIDC_ISSUER", DefaultText: "required", Usage: "the OpenID Connect provider, exactly as tokens name it in `iss`", Commands: serve,
			parse: text(func(c *Config) *string { return &c.OIDCIssuer })},
		{Name: "OVERSHARE_OIDC_AUDIENCE", DefaultText: "required", Usage: "the API's identifier in tokens' `aud`", Commands: serve,
			parse: text(func(c *Config) *string { return &c.OIDCAudience })},
		{Name: "OVERSHARE_OIDC_CLIENT_ID", DefaultText: "none", Usage: "the dashboard's (public) client id", Commands: serve,
			parse: text(func(c *Config) *string { return &c.OIDCClientID })},
		{Name: "OVERSHARE_OIDC_SCOPES", Default: strings.Join(auth.DefaultScopes(), " "), Commands: serve,
			Usage: "scopes the dashboard requests, space-separated, `openid` included; Entra ID needs one of the API (`openid profile offline_access api://<API app id>/Overshare.Access`), or its tokens are for Microsoft Graph; `offline_access` only where users may have offline tokens (deploy/README.md, \"Identity providers\")",
			parse: oidcScopes},
		{Name: "OVERSHARE_OIDC_AUDIENCE_PARAM", Default: "false", Commands: serve,
			Usage: "`true`: the dashboard sends `audience=<OVERSHARE_OIDC_AUDIENCE>` when it signs in; Ory Hydra and Auth0 issue a token for the API only when asked so (Entra ID and Keycloak do not need it)",
			parse: boolean(func(c *Config) *bool { return &c.OIDCAudienceParam })},
		{Name: "OVERSHARE_OIDC_ROLES_CLAIM", Default: auth.DefaultRolesClaim, Commands: serve,
			Usage: "claim path holding roles (`realm_access.roles` for Keycloak, `groups` for Dex)",
			parse: text(func(c *Config) *string { return &c.OIDCRolesClaim })},
		{Name: "OVERSHARE_OIDC_ADMIN_ROLES", Default: strings.Join(auth.DefaultAdminValues(), ","), Usage: "comma-separated claim values that grant ADMIN", Commands: serve,
			parse: list(func(c *Config) *[]string { return &c.OIDCAdminRoles })},
		{Name: "OVERSHARE_OIDC_VIEWER_ROLES", Default: strings.Join(auth.DefaultViewerValues(), ","), Usage: "comma-separated claim values that grant VIEWER", Commands: serve,
			parse: list(func(c *Config) *[]string { return &c.OIDCViewerRoles })},
		{Name: "OVERSHARE_ALLOWED_ORIGINS", DefaultText: "none", Usage: "other browser origins allowed to call the API, comma-separated (no wildcards)", Commands: serve,
			parse: list(func(c *Config) *[]string { return &c.AllowedOrigins })},
		{Name: "OVERSHARE_TRUSTED_PROXIES", DefaultText: "none", Commands: serve,
			Usage: "reverse proxies (IP addresses or CIDR ranges, comma-separated) whose `X-Forwarded-Proto`, `X-Forwarded-Host` and `X-Forwarded-For` are believed; anyone else's are ignored",
			parse: prefixes(func(c *Config) *[]netip.Prefix { return &c.TrustedProxies })},
		{Name: "OVERSHARE_RATE_LIMIT", Default: "20", Commands: serve,
			Usage: "`/graphql` requests a second per user or script client, bursts of 5× allowed; `overview` and `totalCount` count 5 each; over it: 429 with `Retry-After`; `0` turns it off",
			parse: nonNegativeInt(func(c *Config) *int { return &c.RateLimit })},
		{Name: "OVERSHARE_RATE_LIMIT_ADDRESS", Default: "50", Commands: serve,
			Usage: "`/graphql` requests a second per client address (behind `OVERSHARE_TRUSTED_PROXIES`, the client's address in `X-Forwarded-For`), checked before the token, bursts of 4× allowed; `0` turns it off",
			parse: nonNegativeInt(func(c *Config) *int { return &c.RateLimitAddress })},
		{Name: "OVERSHARE_AUTHORITY_URL", Default: msgraph.DefaultAuthorityURL, Usage: "Entra ID sign-in endpoint", Commands: graphAPI,
			parse: text(func(c *Config) *string { return &c.AuthorityURL })},
		{Name: "OVERSHARE_GRAPH_URL", Default: msgraph.DefaultGraphURL, Usage: "Microsoft Graph base URL, version included", Commands: graphAPI,
			parse: text(func(c *Config) *string { return &c.GraphURL })},
		{Name: "OVERSHARE_GRAPH_CA_FILE", DefaultText: "none", Usage: "PEM file of CA certificates trusted for Graph and sign-in besides the system's (a TLS-inspecting proxy's)", Commands: graphAPI,
			parse: text(func(c *Config) *string { return &c.GraphCAFile })},
		{Name: "OVERSHARE_SYNC_WORKERS", Default: strconv.Itoa(jobs.DefaultWorkers), Usage: "syncs running at once in this process", Commands: serve,
			parse: positiveInt(func(c *Config) *int { return &c.SyncWorkers })},
		{Name: "OVERSHARE_SCHEDULE_INTERVAL", Default: shortDuration(jobs.DefaultPeriodicInterval), Commands: serve,
			Usage: "how often due incremental syncs are looked for (each tenant's own interval, 15 min by default, decides when it is due)",
			parse: positiveDuration(func(c *Config) *time.Duration { return &c.ScheduleInterval })},
		{Name: "OVERSHARE_ROOT_REFRESH_INTERVAL", Default: shortDuration(syncer.DefaultRootRefreshInterval), Commands: []string{Serve, Sync},
			Usage: "how often scheduled syncs re-read every stored sharing root (an item with sharing of its own) of a drive, drives staggered over the interval: catches folder sharing changes delta does not mark",
			parse: positiveDuration(func(c *Config) *time.Duration { return &c.RootRefreshInterval })},
		{Name: "OVERSHARE_SWEEP_INTERVAL", Default: shortDuration(syncer.DefaultSweepInterval), Commands: []string{Serve, Sync},
			Usage: "how often scheduled syncs enumerate each drive in full and remove what is gone, drives staggered over the interval: heals deletions delta never reports (retention)",
			parse: positiveDuration(func(c *Config) *time.Duration { return &c.SweepInterval })},
		{Name: "OVERSHARE_DRIVE_RECHECK_INTERVAL", Default: shortDuration(syncer.DefaultDriveRecheckInterval), Commands: serve,
			Usage: "how long a member without a OneDrive waits before a sync looks for one again (OneDrives are provisioned late; one RU per user, in `$batch`)",
			parse: positiveDuration(func(c *Config) *time.Duration { return &c.DriveRecheckInterval })},
		{Name: "OVERSHARE_HISTORY_RETENTION", Default: days(jobs.DefaultHistoryRetention), Commands: serve,
			Usage: "how long each item's sharing history (changes and exposure) is kept, in days (`400d`) or as a duration; an hourly job deletes what is older",
			parse: positiveDays(func(c *Config) *time.Duration { return &c.HistoryRetention })},
		{Name: "OVERSHARE_LOG_LEVEL", Default: "info", Usage: "`debug`, `info`, `warn`, `error`; logs are JSON on stderr", Commands: serve,
			parse: logLevel},
		{Name: "OVERSHARE_METRICS_ADDR", DefaultText: "none", Commands: serve,
			Usage: "address of a listener of its own that serves Prometheus `/metrics` with no check, e.g. `127.0.0.1:9464` or an address only the monitoring network reaches",
			parse: hostPort(func(c *Config) *string { return &c.MetricsAddr })},
		{Name: "OVERSHARE_METRICS_TOKEN", DefaultText: "none: `/metrics` is not on the public address", Commands: serve,
			Usage: "serves `/metrics` on the public address to requests with `Authorization: Bearer <token>` (at least 16 characters)",
			parse: secretText(16, func(c *Config) *string { return &c.MetricsToken })},
		{Name: "OVERSHARE_CLIENT_SECRET", DefaultText: "none", Usage: "the client secret `overshare integrate` connects with, unless `--client-secret-file` is given", Commands: []string{Integrate},
			parse: text(func(c *Config) *string { return &c.ClientSecret })},
		{Name: "GOGC", DefaultText: "`400`", Commands: serve,
			Usage: "Go's garbage collector (read by the Go runtime); the API allocates much and keeps little, so the server collects less often than Go's default (100)"},
		{Name: "GOMEMLIMIT", DefaultText: "70% of the container's memory limit, else `384MiB`", Commands: serve,
			Usage: "Go's soft memory limit (read by the Go runtime); unset, Overshare follows the container's cgroup limit"},
	}
}

// Load parses the variables that command reads; getenv is os.Getenv outside tests. Values are
// trimmed; a blank one counts as unset. Each variable can instead name a file holding its value
// in NAME_FILE (Docker and Kubernetes secrets), never both. The error names the variable and
// what it must be, and never repeats a value.
func Load(command string, getenv func(string) string) (Config, error) {
	var c Config
	for _, o := range Options() {
		if o.parse == nil || !o.ReadBy(command) {
			continue
		}
		v, err := value(o.Name, getenv)
		if err != nil {
			return Config{}, err
		}
		if v == "" {
			v = o.Default
		}
		if err := o.parse(&c, v); err != nil {
			return Config{}, fmt.Errorf("%s %w", o.Name, err)
		}
	}
	return c, nil
}

// value is the variable's value, from the environment or from the file NAME_FILE names.
func value(name string, getenv func(string) string) (string, error) {
	v := strings.TrimSpace(getenv(name))
	path := strings.TrimSpace(getenv(name + "_FILE"))
	switch {
	case path == "":
		return v, nil
	case v != "":
		return "", fmt.Errorf("%s and %s_FILE are both set: set one", name, name)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		// The error names the path, not what it holds.
		return "", fmt.Errorf("%s_FILE: %w", name, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// ReadBy reports whether command reads the variable.
func (o Option) ReadBy(command string) bool {
	for _, c := range o.Commands {
		if c == command {
			return true
		}
	}
	return false
}

// DefaultShown is the default as the help and the documentation show it.
func (o Option) DefaultShown() string {
	switch {
	case o.DefaultText != "":
		return o.DefaultText
	case o.Default != "":
		return "`" + o.Default + "`"
	}
	return ""
}

func text(field func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error {
		*field(c) = v
		return nil
	}
}

// list splits a comma-separated value, dropping blank entries.
func list(field func(*Config) *[]string) func(*Config, string) error {
	return func(c *Config, v string) error {
		var out []string
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
		*field(c) = out
		return nil
	}
}

// oidcScopes parses OVERSHARE_OIDC_SCOPES: OAuth scopes separated by spaces (RFC 6749 §3.3;
// commas are taken too, as every other list here uses them). It refuses at start what a
// provider would refuse only after the person typed a password.
func oidcScopes(c *Config, v string) error {
	fields := strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' })
	resources := map[string]string{} // resource → the first scope naming it
	for i, f := range fields {
		for _, r := range f {
			// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
			if r < 0x21 || r > 0x7e || r == '"' || r == '\\' {
				return fmt.Errorf("holds %q, which is not a scope (printable ASCII without quotes or backslashes)", f)
			}
		}
		if slices.Contains(fields[:i], f) {
			return fmt.Errorf("names %q twice", f)
		}
		// A URI-shaped scope names its API before the last slash (api://<app id>/Overshare.Access).
		// Entra ID refuses a request naming two (AADSTS28000), after the sign-in form.
		if cut := strings.LastIndex(f, "/"); cut > 0 {
			res := f[:cut]
			for other, first := range resources {
				if other != res {
					return fmt.Errorf("names scopes of two APIs (%s and %s); Entra ID refuses that (AADSTS28000): keep the one of Overshare's API", first, f)
				}
			}
			resources[res] = f
		}
	}
	if !slices.Contains(fields, "openid") {
		return errors.New("must include openid: the dashboard signs in with OpenID Connect")
	}
	c.OIDCScopes = fields
	return nil
}

func positiveInt(field func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return errors.New("must be a positive whole number")
		}
		*field(c) = n
		return nil
	}
}

func nonNegativeInt(field func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return errors.New("must be a whole number, 0 or more")
		}
		*field(c) = n
		return nil
	}
}

func positiveDuration(field func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return errors.New("must be a positive duration such as 1m")
		}
		*field(c) = d
		return nil
	}
}

// positiveDays reads a whole number of days written "400d", or a positive duration.
func positiveDays(field func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		if n, err := strconv.Atoi(strings.TrimSuffix(v, "d")); err == nil && strings.HasSuffix(v, "d") {
			if n <= 0 {
				return errors.New("must be a positive number of days such as 400d")
			}
			*field(c) = time.Duration(n) * 24 * time.Hour
			return nil
		}
		return positiveDuration(field)(c, v)
	}
}

// days writes a whole number of days as 400d.
func days(d time.Duration) string { return fmt.Sprintf("%dd", d/(24*time.Hour)) }

// logLevel never fails: an unknown level logs at info, as it always has.
func logLevel(c *Config, v string) error {
	if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
		c.LogLevel = slog.LevelInfo
	}
	return nil
}

// shortDuration writes whole minutes and hours as 1m or 2h, not 1m0s.
func shortDuration(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

// hostPort is an optional listen address, host:port.
func hostPort(field func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error {
		if v != "" {
			if _, port, err := net.SplitHostPort(v); err != nil || port == "" {
				return fmt.Errorf("must be a listen address such as 127.0.0.1:9464, not %q", v)
			}
		}
		*field(c) = v
		return nil
	}
}

// secretText is an optional secret of at least min characters; the error never repeats it.
func secretText(min int, field func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error {
		if v != "" && len(v) < min {
			return fmt.Errorf("must be at least %d characters (it is a password); generate one with: openssl rand -hex 24", min)
		}
		*field(c) = v
		return nil
	}
}

// prefixes is a comma-separated list of IP addresses and CIDR ranges.
func prefixes(field func(*Config) *[]netip.Prefix) func(*Config, string) error {
	return func(c *Config, v string) error {
		var out []netip.Prefix
		for _, part := range strings.Split(v, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			p, err := netip.ParsePrefix(part)
			if err != nil {
				a, aerr := netip.ParseAddr(part)
				if aerr != nil {
					return fmt.Errorf("must be IP addresses or CIDR ranges such as 10.0.0.0/8, not %q", part)
				}
				p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
			}
			out = append(out, p.Masked())
		}
		*field(c) = out
		return nil
	}
}

// boolean is true or false (also 1/0, yes/no).
func boolean(field func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		switch strings.ToLower(v) {
		case "true", "1", "yes":
			*field(c) = true
		case "false", "0", "no", "":
			*field(c) = false
		default:
			return fmt.Errorf("must be true or false, not %q", v)
		}
		return nil
	}
}
