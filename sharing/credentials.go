package sharing

import (
	"context"
	"log/slog"
	"strings"

	"github.com/overshare/overshare/msgraph"
	"github.com/overshare/overshare/sharing/change"
)

// CredentialChecker checks an app registration against Microsoft Graph for the integrate and
// rotate-secret mutations (graph.CredentialChecker). A credential or consent problem is a
// change.Error of kind Invalid, anything else (network, throttling, an unexpected answer)
// GraphFailed; both carry msgraph's sentence, which never holds the secret.
type CredentialChecker struct {
	// Defaults gives the authority and Graph URLs, the extra CA and the version.
	Defaults msgraph.Config
	Logger   *slog.Logger
}

// Check builds a client for the credentials and runs msgraph's CheckCredentials.
func (c CredentialChecker) Check(ctx context.Context, tenantID, clientID, clientSecret string) error {
	cfg := c.Defaults
	cfg.TenantID, cfg.ClientID, cfg.ClientSecret = strings.TrimSpace(tenantID), strings.TrimSpace(clientID), clientSecret
	if cfg.Logger == nil {
		cfg.Logger = c.Logger
	}
	if cfg.TenantID == "" || cfg.ClientID == "" || cfg.ClientSecret == "" {
		return &change.Error{Kind: change.Invalid, Message: "The tenant ID, client ID and client secret are all required."}
	}
	gc, err := msgraph.New(ctx, cfg)
	if msgraph.KindOf(err) == msgraph.TenantNotFound {
		return &change.Error{Kind: change.Invalid, Message: graphMessage(err), Err: err}
	}
	if err != nil {
		// The endpoints are this server's configuration, not the caller's input.
		return &change.Error{Kind: change.GraphFailed, Message: "This server's Microsoft Graph settings are not usable: " + err.Error(), Err: err}
	}
	err = gc.CheckCredentials(ctx)
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	kind := change.GraphFailed
	if k := msgraph.KindOf(err); k.Credential() || k == msgraph.MissingPermission {
		kind = change.Invalid
	}
	return &change.Error{Kind: kind, Message: graphMessage(err), Err: err}
}
