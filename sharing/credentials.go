package sharing

import (
	"context"
	"log/slog"
	"strings"

	"github.com/overshare/overshare/msgraph"
	"github.com/overshare/overshare/sharing/change"
	"github.com/overshare/overshare/store"
)

// CredentialChecker checks an app registration against Microsoft Graph for the integrate and
// updateIntegration mutations (graph.CredentialChecker). A credential or consent problem is a
// change.Error of kind Invalid, anything else (network, throttling, an unexpected answer)
// GraphFailed; both carry msgraph's sentence, which never holds the secret or the key.
type CredentialChecker struct {
	// Defaults gives the authority and Graph URLs, the extra CA and the version.
	Defaults msgraph.Config
	Logger   *slog.Logger
}

// Check builds a client for the credentials, secret or certificate, and runs msgraph's
// CheckCredentials.
func (c CredentialChecker) Check(ctx context.Context, tenantID, clientID string, cred store.Credential) error {
	cfg := c.Defaults
	cfg.TenantID, cfg.ClientID = strings.TrimSpace(tenantID), strings.TrimSpace(clientID)
	cfg.ClientSecret, cfg.Certificate = cred.Secret, cred.Certificate
	if cfg.Logger == nil {
		cfg.Logger = c.Logger
	}
	if cfg.TenantID == "" || cfg.ClientID == "" || (cfg.ClientSecret == "") == (len(cfg.Certificate) == 0) {
		return &change.Error{Kind: change.Invalid, Message: "The tenant ID, the client ID and one credential, a client secret or a certificate, are required."}
	}
	gc, err := msgraph.New(ctx, cfg)
	if msgraph.KindOf(err).Credential() { // an unknown tenant, or a certificate refused before any request
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
