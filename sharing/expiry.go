package sharing

import (
	"context"
	"strings"
	"time"

	"github.com/overshare/overshare/auth"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/msgraph"
	"github.com/overshare/overshare/sharing/change"
	"github.com/overshare/overshare/store"
)

// SetLinkExpiration sets (or with nil clears) the expiry of an anonymous sharing link set on
// the item itself, in Microsoft 365 and then in the database with the expiry Graph answered,
// records an audit event (set_link_expiration, updated or failed, with that date) and returns
// the updated row. Graph refuses an expiry on organisation and specific-people links, so those
// are refused here in words without calling it; so is an inherited link (its folder is named).
func (s *Service) SetLinkExpiration(ctx context.Context, actor auth.Principal, integrationID, itemID, permID string, expiresAt *time.Time) (*change.LinkExpiry, error) {
	unlock, err := s.locks.lock(ctx, store.RowKey{IntegrationID: integrationID, ID: itemID})
	if err != nil {
		return nil, err
	}
	defer unlock()
	p, err := s.st.PermissionByKey(ctx, store.PermissionKey{IntegrationID: integrationID, ItemID: itemID, ID: permID})
	if err != nil {
		return nil, err
	}
	item, err := s.st.DriveItem(ctx, integrationID, itemID)
	if err != nil {
		return nil, err
	}
	fail := func(kind change.Kind, msg string, cause error) (*change.LinkExpiry, error) {
		o := change.Outcome{ItemID: itemID, PermissionID: permID, Result: models.AuditFailed, Message: msg}
		if err := s.audit(ctx, actor, models.AuditSetLinkExpiration, item, p, o); err != nil {
			return nil, err
		}
		return nil, &change.Error{Kind: kind, Message: msg, Err: cause}
	}
	if p.Inherited {
		var folder *models.DriveItem
		if p.InheritedFromID != nil {
			folder, _ = s.st.DriveItem(ctx, integrationID, *p.InheritedFromID)
		}
		return fail(change.Invalid, strings.Replace(InheritedMessage(folder), "stop sharing on", "set its expiry on", 1), nil)
	}
	if p.Scope() != models.LinkScopeAnonymous {
		return fail(change.Invalid, notAnonymousMessage(p), nil)
	}
	if expiresAt != nil && !expiresAt.After(time.Now()) {
		return fail(change.Invalid, "The expiry must be in the future.", nil)
	}
	gc, _, err := s.client(ctx, integrationID)
	if err != nil {
		return nil, err
	}
	var at time.Time // Graph's zero date clears the expiry
	if expiresAt != nil {
		at = expiresAt.UTC().Truncate(time.Second)
	}
	answer, err := gc.SetPermissionExpiration(ctx, item.DriveID, itemID, permID, at)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		switch msgraph.KindOf(err) {
		case msgraph.Rejected:
			if expiresAt == nil {
				return fail(change.Invalid, clearRefusedMessage(err), err)
			}
			return fail(change.Invalid, graphMessage(err), err)
		case msgraph.NotFound:
			if _, derr := s.st.RemoveOwnPermission(ctx, store.Actor{}, integrationID, itemID, permID); derr != nil {
				return nil, derr
			}
			return fail(change.NotFound, "Microsoft 365 no longer has this link; it was removed from Overshare too.", err)
		case msgraph.NotAllowed:
			return fail(change.Invalid, "Microsoft 365 does not allow changing this link on this item (403 notAllowed): it may be inherited from a parent folder; set its expiry on that folder instead.", err)
		}
		return fail(change.GraphFailed, graphMessage(err), err)
	}
	if err := s.st.SetOwnPermissionExpiry(ctx, storeActor(actor), integrationID, itemID, permID, answer.ExpiresAt); err != nil {
		return nil, err
	}
	res := expiryOutcome(expiresAt, answer.ExpiresAt)
	o := change.Outcome{ItemID: itemID, PermissionID: permID, Result: models.AuditUpdated, Message: res.Message}
	if err := s.audit(ctx, actor, models.AuditSetLinkExpiration, item, p, o); err != nil {
		return nil, err
	}
	if res.Permission, err = s.st.PermissionByKey(ctx, store.PermissionKey{IntegrationID: integrationID, ItemID: itemID, ID: permID}); err != nil {
		return nil, err
	}
	return res, nil
}

// expiryOutcome compares the expiry asked for with the one Microsoft Graph answered: a tenant
// that requires Anyone links to expire within some days shortens a later date to its maximum
// and answers 200 (docs/graph-behaviour.md, "Links: expiry, passwords and tenant policy").
func expiryOutcome(requested, applied *time.Time) *change.LinkExpiry {
	res := &change.LinkExpiry{Requested: requested}
	switch {
	case applied == nil && requested == nil:
		res.Message = "Expiry cleared: the link no longer expires."
	case applied == nil:
		res.Message = "Microsoft 365 did not set the expiry: the link still has none."
	case requested != nil && applied.Before(requested.Truncate(time.Second)):
		res.Limited = true
		res.Message = "Microsoft 365 limited the expiry to " + expiryWords(*applied) +
			" (the tenant's maximum for Anyone links), not " + expiryWords(*requested) + " as asked."
	case requested == nil:
		res.Message = "Microsoft 365 kept an expiry (" + expiryWords(*applied) + ") instead of clearing it."
	default:
		res.Message = "Expiry set to " + expiryWords(*applied) + "."
	}
	return res
}

func expiryWords(t time.Time) string { return t.UTC().Format("2 January 2006 15:04 UTC") }

// clearRefusedMessage words Graph's refusal to remove an expiry, which a tenant requiring Anyone
// links to expire answers with 400 invalidRequest.
func clearRefusedMessage(err error) string {
	return "Microsoft 365 refused to remove the expiry of this link: tenants whose sharing policy requires Anyone links " +
		"to expire keep an expiry on every such link. Set a date instead, or stop sharing the link. (Microsoft Graph said: " +
		graphMessage(err) + ")"
}

func notAnonymousMessage(p *models.Permission) string {
	what := "a direct grant to people, not a link"
	switch p.Scope() {
	case models.LinkScopeOrganization:
		what = "an organisation link (people in your organisation)"
	case models.LinkScopeUsers:
		what = "a specific-people link"
	case "":
	default:
		what = "a " + p.Scope() + " link"
	}
	return "Microsoft 365 sets an expiry only on anonymous (\"Anyone with the link\") links; this permission is " + what +
		", and Microsoft Graph refuses an expiry on organisation and specific-people links."
}
