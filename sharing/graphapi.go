package sharing

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/overshare/overshare/auth"
	"github.com/overshare/overshare/graph"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/msgraph"
)

// GraphAPI adapts the service to the GraphQL layer's graph.Sharing.
func (s *Service) GraphAPI() graph.Sharing { return graphAPI{s} }

type graphAPI struct{ s *Service }

var _ graph.Sharing = graphAPI{}

func (a graphAPI) StopSharing(ctx context.Context, actor auth.Principal, req graph.StopSharingRequest) (graph.StopSharingResult, error) {
	items := make([]Item, len(req.Items))
	for i, it := range req.Items {
		items[i] = Item{ItemID: it.ItemID, All: it.All, PermissionIDs: it.PermissionIDs}
	}
	outcomes, err := a.s.StopSharing(ctx, actor, req.IntegrationID, items)
	res := graph.StopSharingResult{Removed: []graph.RemovedPermission{}, Failed: []graph.FailedPermission{}}
	for _, o := range outcomes {
		switch o.Result {
		case models.AuditFailed:
			res.Failed = append(res.Failed, graph.FailedPermission{ItemID: o.ItemID, PermissionID: o.PermissionID, Message: o.Message})
		default:
			res.Removed = append(res.Removed, graph.RemovedPermission{ItemID: o.ItemID, PermissionID: o.PermissionID,
				AlreadyRemoved: o.Result == models.AuditAlreadyRemoved, Confirmed: o.Confirmed, Message: o.Message})
		}
	}
	return res, err
}

func (a graphAPI) SetLinkExpiration(ctx context.Context, actor auth.Principal, p graph.PermissionRef, expiresAt *time.Time) (graph.LinkExpiryResult, error) {
	res, err := a.s.SetLinkExpiration(ctx, actor, p.IntegrationID, p.ItemID, p.PermissionID, expiresAt)
	if err != nil {
		return graph.LinkExpiryResult{}, err
	}
	return graph.LinkExpiryResult{Permission: res.Permission, Limited: res.Limited, Message: res.Message}, nil
}

// CredentialChecker checks an app registration against Microsoft Graph for the integrate and
// rotate-secret mutations (graph.CredentialChecker). A credential or consent problem is a
// BAD_USER_INPUT error, anything else (network, throttling, an unexpected answer) GRAPH_ERROR;
// both carry msgraph's sentence, which never holds the secret.
type CredentialChecker struct {
	// Defaults gives the authority and Graph URLs, the extra CA and the version.
	Defaults msgraph.Config
	Logger   *slog.Logger
}

var _ graph.CredentialChecker = CredentialChecker{}

// Check builds a client for the credentials and runs msgraph's CheckCredentials.
func (c CredentialChecker) Check(ctx context.Context, tenantID, clientID, clientSecret string) error {
	cfg := c.Defaults
	cfg.TenantID, cfg.ClientID, cfg.ClientSecret = strings.TrimSpace(tenantID), strings.TrimSpace(clientID), clientSecret
	if cfg.Logger == nil {
		cfg.Logger = c.Logger
	}
	if cfg.TenantID == "" || cfg.ClientID == "" || cfg.ClientSecret == "" {
		return &Error{Code: CodeBadUserInput, Message: "The tenant ID, client ID and client secret are all required."}
	}
	gc, err := msgraph.New(ctx, cfg)
	if err != nil {
		// The endpoints are this server's configuration, not the caller's input.
		return &Error{Code: CodeGraphError, Message: "This server's Microsoft Graph settings are not usable: " + err.Error(), err: err}
	}
	err = gc.CheckCredentials(ctx)
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	code := CodeGraphError
	switch msgraph.KindOf(err) {
	case msgraph.WrongSecret, msgraph.ExpiredSecret, msgraph.ClientNotFound, msgraph.TenantNotFound, msgraph.MissingPermission:
		code = CodeBadUserInput
	}
	return &Error{Code: code, Message: graphMessage(err), err: err}
}
