package msgraph

import (
	"context"
	"fmt"
	"strings"
	"time"

	json "github.com/goccy/go-json"
	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/drives"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
)

// permissionsConfig sends the hierarchicalsharing preference with permission
// reads too: it is what makes Graph check for Sites.FullControl.All, the
// permission the sharing hierarchy needs, so a missing grant shows at once.
func permissionsConfig() *drives.ItemItemsItemPermissionsRequestBuilderGetRequestConfiguration {
	h := abs.NewRequestHeaders()
	h.Add("Prefer", "hierarchicalsharing")
	return &drives.ItemItemsItemPermissionsRequestBuilderGetRequestConfiguration{Headers: h}
}

// ListPermissions reads the permissions of many items of one drive through
// $batch, 20 items a request. Items that no longer exist (404: deleted since
// delta listed them) are absent from the result.
func (c *Client) ListPermissions(ctx context.Context, driveID string, itemIDs []string) (map[string][]Permission, error) {
	refs := make([]ItemRef, len(itemIDs))
	for i, id := range itemIDs {
		refs[i] = ItemRef{DriveID: driveID, ItemID: id}
	}
	got, err := c.ListPermissionsOf(ctx, refs)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]Permission, len(got))
	for ref, perms := range got {
		out[ref.ItemID] = perms
	}
	return out, nil
}

// ItemRef names an item of a drive.
type ItemRef struct{ DriveID, ItemID string }

// ListPermissionsOf reads the permissions of items of any drives, 20 items a
// $batch whatever drive they are in: a sync's few candidates per drive then
// share requests. Items that no longer exist (404) are absent from the
// result.
func (c *Client) ListPermissionsOf(ctx context.Context, items []ItemRef) (map[ItemRef][]Permission, error) {
	parts := make([]batchPart, 0, len(items))
	byKey := make(map[string]ItemRef, len(items))
	for _, it := range items {
		ri, err := c.sdk.Drives().ByDriveId(it.DriveID).Items().ByDriveItemId(it.ItemID).Permissions().ToGetRequestInformation(ctx, permissionsConfig())
		if err != nil {
			return nil, fmt.Errorf("permissions request for item %s: %w", it.ItemID, err)
		}
		// Item ids are unique within a drive only.
		key := it.DriveID + "\x00" + it.ItemID
		byKey[key] = it
		parts = append(parts, batchPart{key: key, ri: ri})
	}
	out := make(map[ItemRef][]Permission, len(items))
	next := map[ItemRef]string{} // items whose list continues on a nextLink
	var more []ItemRef
	err := c.runBatch(ctx, opPermissions, parts, func(key string, a batchAnswer) error {
		if a.status == 404 {
			return nil
		}
		it := byKey[key]
		if a.status >= 400 {
			return fmt.Errorf("permissions of item %s: %w", it.ItemID, c.classify(opPermissions, a.err()))
		}
		var col wirePermissionPage
		if err := json.Unmarshal(a.body, &col); err != nil {
			return fmt.Errorf("permissions of item %s: Microsoft Graph answered a list that could not be read: %w", it.ItemID, err)
		}
		perms := make([]Permission, 0, len(col.Value))
		for i := range col.Value {
			perms = append(perms, c.wireToPermission(&col.Value[i]))
		}
		out[it] = perms
		if nl := col.NextLink; nl != "" {
			more = append(more, it)
			next[it] = nl
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, it := range more {
		rest, err := c.permissionPages(ctx, it.DriveID, it.ItemID, next[it])
		if err != nil {
			return nil, err
		}
		out[it] = append(out[it], rest...)
	}
	return out, nil
}

// itemPermissions reads one item's permissions directly.
func (c *Client) itemPermissions(ctx context.Context, driveID, itemID string) ([]Permission, error) {
	return c.permissionPages(ctx, driveID, itemID, "")
}

func (c *Client) permissionPages(ctx context.Context, driveID, itemID, link string) ([]Permission, error) {
	b := c.sdk.Drives().ByDriveId(driveID).Items().ByDriveItemId(itemID).Permissions()
	var out []Permission
	for {
		var col models.PermissionCollectionResponseable
		var err error
		if link == "" {
			col, err = b.Get(ctx, permissionsConfig())
		} else {
			col, err = b.WithUrl(link).Get(ctx, permissionsConfig())
		}
		if err != nil {
			return nil, c.classify(opPermissions, err)
		}
		for _, p := range col.GetValue() {
			out = append(out, c.mapPermission(p))
		}
		next := deref(col.GetOdataNextLink())
		if next == "" || sameLink(next, link) {
			return out, nil
		}
		link = next
	}
}

// DeletePermission stops one sharing permission (204). A permission that is
// already gone answers *Error{Kind: NotFound}, which callers treat as done;
// one the item inherits answers 403 notAllowed (Kind NotAllowed). A 204 does
// not prove the permission is gone (SharePoint keeps the owner's grant and
// limited access): callers list the item's permissions again to confirm.
func (c *Client) DeletePermission(ctx context.Context, driveID, itemID, permID string) error {
	err := c.sdk.Drives().ByDriveId(driveID).Items().ByDriveItemId(itemID).Permissions().ByPermissionId(permID).Delete(ctx, nil)
	return c.classify(opDelete, err)
}

// ItemPermissions lists one item's permissions (5 resource units), for
// confirming a change. A deleted item answers *Error{Kind: NotFound}.
func (c *Client) ItemPermissions(ctx context.Context, driveID, itemID string) ([]Permission, error) {
	return c.itemPermissions(ctx, driveID, itemID)
}

// SetPermissionExpiration sets a sharing link's expiry and returns the
// updated permission. Graph accepts it on anonymous links only; other
// permissions answer *Error{Kind: Rejected}.
func (c *Client) SetPermissionExpiration(ctx context.Context, driveID, itemID, permID string, t time.Time) (*Permission, error) {
	body := models.NewPermission()
	t = t.UTC()
	body.SetExpirationDateTime(&t)
	p, err := c.sdk.Drives().ByDriveId(driveID).Items().ByDriveItemId(itemID).Permissions().ByPermissionId(permID).Patch(ctx, body, nil)
	if err != nil {
		return nil, c.classify(opExpire, err)
	}
	out := c.mapPermission(p)
	return &out, nil
}

// noExpiry is Graph's "0001-01-01T00:00:00Z": the permission does not expire.
func noExpiry(t *time.Time) bool { return t == nil || t.Year() <= 1 }

func (c *Client) mapPermission(p models.Permissionable) Permission {
	out := Permission{
		ID:          deref(p.GetId()),
		Roles:       p.GetRoles(),
		HasPassword: deref(p.GetHasPassword()),
	}
	if t := p.GetExpirationDateTime(); !noExpiry(t) {
		u := t.UTC()
		out.ExpiresAt = &u
	}
	if l := p.GetLink(); l != nil {
		out.Link = &Link{
			Type:             deref(l.GetTypeEscaped()),
			Scope:            deref(l.GetScope()),
			WebURL:           deref(l.GetWebUrl()),
			PreventsDownload: deref(l.GetPreventsDownload()),
		}
	}
	invited := false
	if inv := p.GetInvitation(); inv != nil {
		out.InvitationEmail = deref(inv.GetEmail())
		invited = true
	}
	if g := p.GetGrantedToV2(); g != nil {
		if id := c.spIdentity(g, invited); id != nil {
			out.GrantedTo = id
		}
	} else if g := p.GetGrantedTo(); g != nil {
		if id := c.identitySet(g); id.ID != "" || id.Email != "" {
			out.GrantedTo = &id
		}
	}
	for _, g := range p.GetGrantedToIdentitiesV2() {
		if id := c.spIdentity(g, invited); id != nil {
			out.GrantedToIdentities = append(out.GrantedToIdentities, *id)
		}
	}
	if len(p.GetGrantedToIdentitiesV2()) == 0 {
		for _, g := range p.GetGrantedToIdentities() {
			if id := c.identitySet(g); id.ID != "" || id.Email != "" {
				out.GrantedToIdentities = append(out.GrantedToIdentities, id)
			}
		}
	}
	if inh := p.GetInheritedFrom(); inh != nil {
		out.Inherited = true
		out.InheritedFromID = deref(inh.GetId())
	}
	return out
}

// spIdentity maps a sharePointIdentitySet as wireSPIdentity does.
func (c *Client) spIdentity(s models.SharePointIdentitySetable, invited bool) *Identity {
	if a := s.GetApplication(); a != nil {
		return &Identity{ID: deref(a.GetId()), DisplayName: deref(a.GetDisplayName()), Kind: KindApplication}
	}
	if u := s.GetSiteUser(); u != nil && s.GetUser() == nil && strings.Contains(deref(u.GetLoginName()), everyoneClaim) {
		return everyone(deref(u.GetDisplayName()))
	}
	if u := s.GetUser(); u != nil {
		id := c.identity(u, "user", invited)
		return &id
	}
	if g := s.GetGroup(); g != nil {
		id := c.identity(g, "group", false)
		return &id
	}
	if u := s.GetSiteUser(); u != nil {
		id := c.identity(u, "user", invited)
		return &id
	}
	if g := s.GetSiteGroup(); g != nil {
		id := c.identity(g, "group", false)
		return &id
	}
	return nil
}
