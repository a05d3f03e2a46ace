package syncer

import (
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/msgraph"
)

// maxDepth bounds ancestor walks (a parent cycle must not loop forever).
const maxDepth = 1000

// classify converts the listed permissions of a page's candidates and
// decides for each whether it is the item's own or inherited, by
// SharePoint's model (docs/graph-behaviour.md, "Permissions: SharePoint's
// model"):
//
//   - an entry with inheritedFrom is inherited: from the item it names, or
//     from somewhere Graph does not say when it sent "inheritedFrom": {};
//   - otherwise what a permission-hierarchy root lists is its own, the
//     entries copied from its parent when its inheritance was broken
//     included: the drive root, and every item that carries a shared facet
//     (hierarchical sharing puts one on hierarchy roots only);
//   - an item listed without a shared facet is no hierarchy root (delta
//     returned it because its sharing changed: its unique permissions were
//     deleted): what it lists is inherited, from somewhere unknown. So a
//     DriveItem given here must carry the facet as delta gave it.
//
// Permission ids do not tell: SharePoint names a user's grant after the
// user, so a folder and its uniquely shared child hold the same id.
//
// byID holds the items of the pages not committed yet; listed the
// permissions read; cands are the items to convert.
func (r *run) classify(driveID string, byID map[string]*msgraph.DriveItem, cands []string, listed map[string][]msgraph.Permission) map[string][]models.Permission {
	out := make(map[string][]models.Permission, len(cands))
	for _, id := range cands {
		ps, ok := listed[id]
		it := byID[id]
		if !ok || ps == nil || it == nil {
			continue // gone since delta listed it
		}
		inherits := !it.IsRoot && it.Shared == nil
		rows := make([]models.Permission, len(ps))
		for k := range ps {
			rows[k] = PermissionRow(r.integ.ID, driveID, id, &ps[k])
			switch {
			case it.IsRoot:
			case ps[k].Inherited && ps[k].InheritedFromID != "":
				from := ps[k].InheritedFromID
				rows[k].Inherited, rows[k].InheritedFromID = true, &from
			case ps[k].Inherited || inherits:
				rows[k].Inherited = true
			}
		}
		out[id] = rows
	}
	return out
}
