package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/overshare/overshare/auth"
	"github.com/overshare/overshare/internal/config"
	"github.com/overshare/overshare/msgraph"
	"github.com/overshare/overshare/store"
)

// The library packages' configurations, from the environment as internal/config parsed it.

func storeConfig(env config.Config) store.Config {
	return store.Config{DatabaseURL: env.DatabaseURL, DataDir: env.DataDir, SecretKey: env.SecretKey}
}

// graphEndpoints says where Microsoft lives; credentials come from each integration.
func graphEndpoints(env config.Config) msgraph.Config {
	return msgraph.Config{AuthorityURL: env.AuthorityURL, GraphURL: env.GraphURL, CAFile: env.GraphCAFile}
}

func authConfig(env config.Config) auth.Config {
	return auth.Config{Issuer: env.OIDCIssuer, Audience: env.OIDCAudience, RolesClaim: env.OIDCRolesClaim,
		AdminValues: env.OIDCAdminRoles, ViewerValues: env.OIDCViewerRoles, Scopes: env.OIDCScopes}
}

// printEnvironment lists the variables a command reads, with their defaults, for --help.
func printEnvironment(w io.Writer, command string) {
	for _, o := range config.Options() {
		if !o.ReadBy(command) {
			continue
		}
		line := o.Usage
		if d := o.DefaultShown(); d != "" {
			line += " (default: " + d + ")"
		}
		fmt.Fprintf(w, "  %s\n    \t%s\n", o.Name, strings.ReplaceAll(line, "`", ""))
	}
	fmt.Fprintln(w, "\nEach variable may instead be read from a file: NAME_FILE=/run/secrets/name (not both).")
}
