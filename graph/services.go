package graph

import (
	"context"
	"time"

	"github.com/overshare/overshare/auth"
	"github.com/overshare/overshare/sharing/change"
	"github.com/overshare/overshare/store"
)

// The mutations that reach Microsoft Graph or the sync engine go through these interfaces,
// implemented by the packages that own that work (syncer/jobs, msgraph, the sharing service) and
// wired in by cmd/overshare. A nil service makes its mutations answer INTERNAL ("not available
// on this server") rather than pretend.
//
// Errors: an implementation's error is shown to the caller only when its chain holds a
// *change.Error (whose Kind picks the code, in classify: graph/errors.go) or an error with a
// method `ErrorCode() string` returning BAD_USER_INPUT, NOT_FOUND, FORBIDDEN or GRAPH_ERROR
// (jobs.Error); its Error() text is then shown as is, so it must be written for people and
// never hold a secret. A chain holding store.ErrNotFound answers NOT_FOUND. Anything else is
// logged and answered INTERNAL without its text.

// Syncer starts and cancels sync runs.
type Syncer interface {
	// Start begins a sync of the integration (full: a complete re-enumeration) and returns the
	// id of its run. The sync_runs row exists, status running, when Start returns. When a run of
	// the integration is already going, Start returns that run's id instead of starting another.
	Start(ctx context.Context, integrationID string, full bool) (runID string, err error)
	// Cancel stops a running run; the run ends with status cancelled. Cancelling a run that has
	// ended is not an error.
	Cancel(ctx context.Context, runID string) error
	// Watch brings the integration's change-notification subscriptions in line with its
	// state, soon (after resume and pause); it does not wait for Graph.
	Watch(ctx context.Context, integrationID string) error
	// Unwatch deletes the integration's subscriptions in Graph now, before the integration
	// is deleted. A failure is logged, not returned: a subscription left behind lapses by
	// itself and its notifications are ignored as unknown.
	Unwatch(ctx context.Context, integrationID string)
}

// CredentialChecker checks an app registration's credential, a client secret or a certificate
// (store.Credential, the type the store encrypts), against Microsoft Graph: it gets a token and
// makes the calls a sync needs. A failure is returned as an error whose message says what is
// wrong in words ("the client secret is wrong", "the certificate is not registered", "the app
// lacks User.Read.All") and never holds the secret or the key.
type CredentialChecker interface {
	Check(ctx context.Context, tenantID, clientID string, cred store.Credential) error
}

// Sharing changes sharing in Microsoft 365: first through Graph, then in the database, writing
// one audit event per permission. It is written in the types of package sharing/change, which
// *sharing.Service answers in, so that cmd/overshare wires the service in as it is.
type Sharing interface {
	// StopSharing removes permissions of items of one integration. For each item, All means
	// every permission of the item's own that is sharing; otherwise exactly PermissionIDs, so an
	// empty list removes nothing. A listed id the database does not hold for the item fails,
	// naming it (or, when Overshare removed it from the item before, is already removed); it is
	// never sent to Microsoft 365. Calls on the same item are serialised. An inherited
	// permission is not removed: it fails with a message naming the folder to change instead. A
	// permission that Microsoft 365 no longer has is already removed and leaves the database.
	// The item's permissions are read again afterwards: a permission still listed fails with a
	// message saying what is still there.
	// It returns one outcome per permission attempted; the error is for failures of the whole
	// call.
	StopSharing(ctx context.Context, actor auth.Principal, integrationID string, items []change.Item) ([]change.Outcome, error)
	// StopSelected stops exactly the permissions of a bulk selection (store.SelectToStop), as
	// StopSharing does, never all of an item's.
	StopSelected(ctx context.Context, actor auth.Principal, sel *store.StopSelection) ([]change.Outcome, error)
	// SetLinkExpiration sets (or with nil clears) the expiry of an anonymous sharing link, in
	// Microsoft 365 and in the database, writes an audit event, and returns the updated row with
	// what Microsoft 365 did in words.
	SetLinkExpiration(ctx context.Context, actor auth.Principal, integrationID, itemID, permissionID string, expiresAt *time.Time) (*change.LinkExpiry, error)
}
