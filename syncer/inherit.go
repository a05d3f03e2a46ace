package syncer

import (
	"context"

	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/msgraph"
)

// maxDepth bounds ancestor walks (a parent cycle must not loop forever).
const maxDepth = 1000

// classify converts the listed permissions of a page's candidates and
// decides for each whether it is the item's own or inherited.
//
// inheritedFrom is used when Graph gives it. When none of an item's
// permissions carries it (OneDrive for Business may omit it), a permission
// is inherited if its id is listed on an ancestor — in the same page, or
// stored — because Graph keeps the ancestor's permission id on inherited
// entries; it comes from the highest such ancestor. The root inherits
// nothing.
//
// byID holds the items of the pages not committed yet (newer than the
// database); listed the permissions read and not committed yet; cands are
// the items to convert.
func (r *run) classify(ctx context.Context, driveID string, byID map[string]*msgraph.DriveItem, cands []string, listed map[string][]msgraph.Permission) (map[string][]models.Permission, error) {
	out := make(map[string][]models.Permission, len(cands))
	var unsure []string
	for _, id := range cands {
		ps, ok := listed[id]
		it := byID[id]
		if !ok || ps == nil || it == nil {
			continue // gone since delta listed it
		}
		rows := make([]models.Permission, len(ps))
		hasRef := false
		for k := range ps {
			rows[k] = permissionModel(r.integ.ID, driveID, id, &ps[k])
			if !it.IsRoot && (ps[k].Inherited || ps[k].InheritedFromID != "") {
				hasRef = true
				rows[k].Inherited = true
				if ps[k].InheritedFromID != "" {
					from := ps[k].InheritedFromID
					rows[k].InheritedFromID = &from
				}
			}
		}
		out[id] = rows
		if !it.IsRoot && !hasRef && len(rows) > 0 {
			unsure = append(unsure, id)
		}
	}
	if len(unsure) == 0 {
		return out, nil
	}

	// Walk every unsure item's ancestors, a level at a time: the page first
	// (it is newer than the database), then the stored parents.
	chains := make(map[string][]string, len(unsure))
	at := make(map[string]string, len(unsure)) // item → ancestor to place next
	for _, id := range unsure {
		at[id] = byID[id].ParentID
	}
	parents := map[string]string{} // stored parent of ancestors not in the page
	for depth := 0; len(at) > 0 && depth < maxDepth; depth++ {
		var ask []string
		for _, a := range at {
			if _, inPage := byID[a]; a != "" && !inPage {
				if _, ok := parents[a]; !ok {
					ask = append(ask, a)
				}
			}
		}
		if len(ask) > 0 {
			got, err := r.st.SyncItemParents(ctx, r.integ.ID, driveID, ask)
			if err != nil {
				return nil, err
			}
			for _, a := range ask {
				p, ok := got[a]
				if !ok {
					p = "" // unknown: the walk ends here
				}
				parents[a] = p
			}
		}
		for id, a := range at {
			if a == "" {
				delete(at, id)
				continue
			}
			chains[id] = append(chains[id], a)
			if it, ok := byID[a]; ok {
				at[id] = it.ParentID
				if it.IsRoot {
					at[id] = ""
				}
			} else {
				at[id] = parents[a]
			}
		}
	}

	// Permission ids listed on each ancestor: read in this page when the
	// ancestor was a candidate, stored otherwise.
	var stored []string
	seen := map[string]bool{}
	for _, chain := range chains {
		for _, a := range chain {
			if _, read := listed[a]; !read && !seen[a] {
				seen[a] = true
				stored = append(stored, a)
			}
		}
	}
	storedIDs, err := r.st.SyncPermissionIDs(ctx, r.integ.ID, stored)
	if err != nil {
		return nil, err
	}
	idsOf := func(a string) []string {
		if ps, read := listed[a]; read {
			ids := make([]string, len(ps))
			for k := range ps {
				ids[k] = ps[k].ID
			}
			return ids
		}
		return storedIDs[a]
	}
	for _, id := range unsure {
		origin := map[string]string{} // permission id → highest ancestor listing it
		for _, a := range chains[id] {
			for _, pid := range idsOf(a) {
				origin[pid] = a
			}
		}
		rows := out[id]
		for k := range rows {
			if a, ok := origin[rows[k].ID]; ok {
				from := a
				rows[k].Inherited = true
				rows[k].InheritedFromID = &from
			}
		}
	}
	return out, nil
}
