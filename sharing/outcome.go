package sharing

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/msgraph"
	"github.com/overshare/overshare/sharing/change"
	"github.com/overshare/overshare/store"
	"github.com/overshare/overshare/syncer"
)

// outcome judges one attempt by the permissions listed afterwards: gone is "confirmed
// removed"; still listed names what is still there.
func (j *itemJob) outcome(ctx context.Context, a attempt, listed []msgraph.Permission, lerr error, inheritedNow map[string]*models.DriveItem) change.Outcome {
	o := change.Outcome{ItemID: j.item.ID, PermissionID: a.p.ID, Result: models.AuditFailed}
	kind := msgraph.KindOf(a.err)
	switch {
	case !a.sent:
		o.Message = a.refused
		return o
	case kind == msgraph.NotAllowed && lerr != nil && msgraph.KindOf(lerr).DriveInaccessible():
		// A blocked site answers a change 403 notAllowed too, as SharePoint refuses an entry
		// the item inherits; the item cannot be read either, so it is the site.
		o.Message = graphMessage(lerr)
		return o
	case a.err != nil && kind != msgraph.NotFound && kind != msgraph.NotAllowed:
		o.Message = graphMessage(a.err)
		return o
	}
	var still *msgraph.Permission
	if lerr == nil {
		for k := range listed {
			if listed[k].ID == a.p.ID {
				still = &listed[k]
			}
		}
	}
	switch {
	case lerr != nil && a.err == nil:
		o.Result, o.Message = models.AuditRemoved, "Removed in Microsoft 365, but it could not be confirmed: "+graphMessage(lerr)
	case lerr != nil && kind == msgraph.NotFound:
		o.Result, o.Message = models.AuditAlreadyRemoved, "Microsoft 365 no longer had this permission; removed from Overshare too."
	case lerr != nil:
		o.Message = graphMessage(a.err)
	case still == nil && kind == msgraph.NotFound:
		o.Result, o.Confirmed = models.AuditAlreadyRemoved, true
		o.Message = "Confirmed removed: Microsoft 365 no longer had this permission and does not list it on the item."
	case still == nil:
		o.Result, o.Confirmed = models.AuditRemoved, true
		o.Message = "Confirmed removed: Microsoft 365 no longer lists this permission on the item."
	case kind == msgraph.NotAllowed || still.Inherited:
		folder := j.folderOf(ctx, a.p, still)
		inheritedNow[a.p.ID] = folder
		o.Message = "Still there: " + InheritedMessage(folder)
	default:
		o.Message = "Still there: Microsoft 365 answered that it was removed but still lists it on the item " +
			"(SharePoint keeps some access, such as the owner's and limited access, whatever is asked)."
	}
	return o
}

// folderOf is where a permission still listed on the item comes from: the item Graph names
// in inheritedFrom, else the nearest stored ancestor that holds the same id.
func (j *itemJob) folderOf(ctx context.Context, p *models.Permission, still *msgraph.Permission) *models.DriveItem {
	if still.InheritedFromID != "" {
		if f, err := j.s.st.DriveItem(ctx, j.item.IntegrationID, still.InheritedFromID); err == nil {
			return f
		}
	}
	f, err := j.s.st.AncestorHoldingPermission(ctx, j.item.IntegrationID, j.item.ID, p.ID)
	if err != nil {
		return nil
	}
	return f
}

// updateFromList makes the database match what Graph listed after the removals: the item's
// rows become the listed permissions (an entry refused as inherited is stored as inherited
// from the folder that holds it). When the list could not be read, the confirmed Graph answers
// are applied row by row.
func (j *itemJob) updateFromList(ctx context.Context, out []change.Outcome, listed []msgraph.Permission, lerr error, inheritedNow map[string]*models.DriveItem) error {
	var err error
	if lerr != nil {
		for _, o := range out {
			if o.Result != models.AuditFailed {
				if _, e := j.s.st.RemoveOwnPermission(ctx, storeActor(j.actor), j.item.IntegrationID, j.item.ID, o.PermissionID); e != nil {
					err = e
				}
			}
		}
	} else {
		stored := make(map[string]*models.Permission, len(j.perms))
		for _, p := range j.perms {
			stored[p.ID] = p
		}
		// An item inherits all or nothing: one entry refused as inherited means every entry
		// it lists comes from the same folder.
		var from *models.DriveItem
		inherits := len(inheritedNow) > 0
		for _, f := range inheritedNow {
			from = f
		}
		rows := make([]models.Permission, len(listed))
		for k := range listed {
			rows[k] = syncer.PermissionRow(j.item.IntegrationID, j.item.DriveID, j.item.ID, &listed[k])
			switch {
			case j.item.IsRoot:
			case listed[k].InheritedFromID != "":
				id := listed[k].InheritedFromID
				rows[k].Inherited, rows[k].InheritedFromID = true, &id
			case listed[k].Inherited || inherits:
				rows[k].Inherited = true
				if from != nil {
					rows[k].InheritedFromID = &from.ID
				}
			case stored[listed[k].ID] != nil && stored[listed[k].ID].Inherited:
				rows[k].Inherited, rows[k].InheritedFromID = true, stored[listed[k].ID].InheritedFromID
			}
		}
		err = j.s.st.ReplaceItemPermissions(ctx, storeActor(j.actor), j.item.IntegrationID, j.item.DriveID, j.item.ID, rows)
	}
	if err != nil {
		// Microsoft 365 changed; the next sync brings the database in line.
		j.s.log.ErrorContext(ctx, "stop sharing: database not updated after Graph changed the item",
			"integration", j.item.IntegrationID, "item", j.item.ID, "error", err)
		for k := range out {
			if out[k].Result != models.AuditFailed {
				out[k].Message += " The database could not be updated yet; the next sync will."
			}
		}
	}
	return err
}

// inheritedMessage names the folder where an inherited permission is set.
func (j *itemJob) inheritedMessage(ctx context.Context, p *models.Permission) string {
	var folder *models.DriveItem
	if p.InheritedFromID != nil {
		folder = j.folders[store.RowKey{IntegrationID: j.item.IntegrationID, ID: *p.InheritedFromID}]
	}
	if folder == nil {
		if f, err := j.s.st.AncestorHoldingPermission(ctx, j.item.IntegrationID, j.item.ID, p.ID); err == nil {
			folder = f
		}
	}
	return InheritedMessage(folder)
}

// InheritedMessage is the refusal for an inherited permission, naming the folder it comes
// from when known.
func InheritedMessage(folder *models.DriveItem) string {
	if folder == nil {
		return "This permission is inherited from a parent folder; stop sharing on the folder it comes from instead."
	}
	where := folder.Path
	if folder.IsRoot || where == "" || where == "/" {
		return "This permission is inherited from the root of the OneDrive; it cannot be removed from a single item."
	}
	return fmt.Sprintf("This permission is inherited from the folder %q (%s); stop sharing on that folder instead.", folder.Name, where)
}

func isOwner(p *models.Permission) bool {
	for _, r := range strings.Split(p.Roles, ",") {
		if r == "owner" {
			return true
		}
	}
	return false
}

// graphMessage is msgraph's sentence for an administrator.
func graphMessage(err error) string {
	var ge *msgraph.Error
	if errors.As(err, &ge) && ge.Message != "" {
		return ge.Message
	}
	return "Microsoft Graph could not be reached or answered unexpectedly: " + err.Error()
}
