package msgraph

import (
	"context"
	"errors"
	"fmt"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
)

// UserDrives reads each user's OneDrive (with quota) through $batch, 20 users
// a request. Users without a OneDrive (no licence, or not provisioned yet)
// answer 404: they map to a nil entry, not an error. A OneDrive that is
// locked or closed to the app (423, or 403 while the app holds the
// permission) is returned in inaccessible, keyed by user, with the
// classified reason: Graph does not tell its id then.
func (c *Client) UserDrives(ctx context.Context, userIDs []string) (drives map[string]*Drive, inaccessible map[string]*Error, err error) {
	parts := make([]batchPart, 0, len(userIDs))
	for _, id := range userIDs {
		ri, err := c.sdk.Users().ByUserId(id).Drive().ToGetRequestInformation(ctx, nil)
		if err != nil {
			return nil, nil, fmt.Errorf("drive request for user %s: %w", id, err)
		}
		parts = append(parts, batchPart{key: id, ri: ri})
	}
	drives = make(map[string]*Drive, len(userIDs))
	inaccessible = map[string]*Error{}
	err = c.runBatch(ctx, opDrives, parts, func(userID string, a batchAnswer) error {
		if a.status == 404 {
			drives[userID] = nil
			return nil
		}
		d, err := decodePart[models.Driveable](a, models.CreateDriveFromDiscriminatorValue)
		if err != nil {
			cerr := c.classify(opDrives, err)
			var ge *Error
			if errors.As(cerr, &ge) && ge.Kind.DriveInaccessible() {
				inaccessible[userID] = ge
				return nil
			}
			return fmt.Errorf("drive of user %s: %w", userID, cerr)
		}
		drives[userID] = c.mapDrive(d)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return drives, inaccessible, nil
}

func (c *Client) mapDrive(d models.Driveable) *Drive {
	out := &Drive{
		ID:        deref(d.GetId()),
		Name:      deref(d.GetName()),
		DriveType: deref(d.GetDriveType()),
		WebURL:    deref(d.GetWebUrl()),
		Owner:     c.identitySet(d.GetOwner()),
	}
	if t := d.GetCreatedDateTime(); t != nil {
		out.CreatedAt = t.UTC()
	}
	if t := d.GetLastModifiedDateTime(); t != nil {
		out.ModifiedAt = t.UTC()
	}
	if q := d.GetQuota(); q != nil {
		out.Quota = Quota{
			Total: deref(q.GetTotal()), Used: deref(q.GetUsed()), Remaining: deref(q.GetRemaining()),
			Deleted: deref(q.GetDeleted()), State: deref(q.GetState()),
		}
	}
	return out
}

// identitySet maps an identitySet's user to an Identity.
func (c *Client) identitySet(s models.IdentitySetable) Identity {
	if s == nil {
		return Identity{}
	}
	if u := s.GetUser(); u != nil {
		return c.identity(u, "user", false)
	}
	return Identity{}
}

func (c *Client) identity(i models.Identityable, kind string, invited bool) Identity {
	email := additionalString(i.GetAdditionalData(), "email")
	upn := additionalString(i.GetAdditionalData(), "userPrincipalName")
	return Identity{
		ID:          deref(i.GetId()),
		DisplayName: deref(i.GetDisplayName()),
		Email:       email,
		Kind:        kind,
		External:    c.isExternal(email, upn, invited),
	}
}

// additionalString reads a property the SDK model lacks; kiota stores it as
// *string (or string, depending on the parse path).
func additionalString(ad map[string]any, key string) string {
	switch v := ad[key].(type) {
	case *string:
		return deref(v)
	case string:
		return v
	}
	return ""
}
