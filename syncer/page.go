package syncer

import (
	"context"
	"errors"
	"time"

	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/msgraph"
	"github.com/overshare/overshare/store"
)

// fetch reads the next delta page of the drive and picks its candidates.
// A 410 turns the round into a full enumeration from the Location Graph
// gave (cur.restarted tells the caller).
func (r *run) fetch(ctx context.Context, driveID string, cur *cursor) (*page, error) {
	var dp *msgraph.DeltaPage
	for {
		var err error
		dp, err = r.gc.DeltaPage(ctx, driveID, cur.link)
		var ge *msgraph.Error
		if errors.As(err, &ge) && ge.Kind == msgraph.ResyncRequired && cur.resyncs < maxResyncs {
			r.log.Info("delta link expired, enumerating the drive again", "drive", driveID)
			*cur = cursor{link: ge.Location, roundFull: true, needStart: true, resyncs: cur.resyncs + 1,
				changed: true, repath: true, restarted: true}
			continue
		}
		if err != nil {
			return nil, err
		}
		break
	}
	p := &page{items: dedupe(dp.Items), next: dp.NextLink, delta: dp.DeltaLink}
	var changedFacet map[string]bool
	if !cur.roundFull {
		var err error
		if changedFacet, err = r.facetsChanged(ctx, driveID, p.items); err != nil {
			return nil, err
		}
	}
	for i := range p.items {
		it := &p.items[i]
		if it.Deleted {
			continue
		}
		if it.Shared != nil && !it.Shared.Empty {
			p.shared++
		}
		if cur.roundFull && it.Shared != nil || !cur.roundFull && (it.SharedChanged || changedFacet[it.ID]) {
			p.cands = append(p.cands, it.ID)
		}
	}
	return p, nil
}

// facetsChanged returns the items of an incremental page, not marked
// sharedChanged, whose shared facet differs from the stored one: Graph
// never marks folders sharedChanged, even when their own sharing changed
// (docs/graph-behaviour.md), but a folder that became, or stopped being, a
// shared hierarchy root, or changed scope, shows it in its facet. A new item
// counts as stored without a facet.
func (r *run) facetsChanged(ctx context.Context, driveID string, items []msgraph.DriveItem) (map[string]bool, error) {
	var ids []string
	for i := range items {
		if !items[i].Deleted && !items[i].SharedChanged && !items[i].IsRoot {
			ids = append(ids, items[i].ID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	stored, err := r.st.SyncSharedScopes(ctx, r.integ.ID, driveID, ids)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for i := range items {
		it := &items[i]
		if it.Deleted || it.SharedChanged || it.IsRoot {
			continue
		}
		was := stored[it.ID]
		if (it.Shared == nil) != (was == nil) || it.Shared != nil && it.Shared.Scope != *was {
			out[it.ID] = true
		}
	}
	return out, nil
}

// commit writes the page and the drive's new position in one transaction.
func (r *run) commit(ctx context.Context, driveID string, cur *cursor, p *page, perms map[string][]models.Permission) error {
	if cur.needStart {
		if _, err := r.st.StartFullRound(ctx, r.integ.ID, driveID); err != nil {
			return err
		}
		cur.needStart = false
	}
	w := store.SyncPage{NextLink: p.next, DeltaLink: p.delta, Permissions: perms}
	for i := range p.items {
		it := &p.items[i]
		if it.Deleted {
			w.DeletedIDs = append(w.DeletedIDs, it.ID)
		} else {
			w.Items = append(w.Items, itemModel(r.integ.ID, driveID, it))
		}
	}
	cur.itemsSeen += int64(len(p.items))
	if len(p.items) > 0 {
		cur.changed = true
	}
	w.ItemsSeen = cur.itemsSeen
	if len(w.Items) > 0 {
		if err := r.derivePaths(ctx, driveID, cur, w.Items); err != nil {
			return err
		}
	}
	if p.delta != "" {
		w.Sweep = cur.roundFull
		w.RecomputePaths = cur.repath
		if w.Sweep {
			w.SweptAt = r.s.cfg.Now()
		}
	}
	t0 := time.Now()
	err := r.st.CommitSyncPage(ctx, r.integ.ID, driveID, w)
	if err == nil && w.Sweep {
		r.add(ctx, counts{drivesSwept: 1})
	}
	r.log.Debug("page committed", "drive", driveID, "items", len(w.Items), "deleted", len(w.DeletedIDs),
		"permissions", len(w.Permissions), "last", p.delta != "", "took", time.Since(t0))
	return err
}

// derivePaths sets the path of the page's items from their parents' (in
// the page or stored), so that a first sync writes each row once instead of
// rewriting every row in a recompute at the end. Whenever that cannot be
// done exactly (a parent not known yet, a stored item renamed or moved,
// whose descendants' paths change too) the round is marked for a recompute.
func (r *run) derivePaths(ctx context.Context, driveID string, cur *cursor, items []models.DriveItem) error {
	inPage := make(map[string]int, len(items))
	for i := range items {
		inPage[items[i].ID] = i
	}
	ask := make([]string, 0, len(items))
	for i := range items {
		ask = append(ask, items[i].ID)
		if _, ok := inPage[items[i].ParentID]; !ok && items[i].ParentID != "" {
			ask = append(ask, items[i].ParentID)
		}
	}
	stored, err := r.st.SyncItemPaths(ctx, r.integ.ID, driveID, ask)
	if err != nil {
		return err
	}
	const resolving = "\x00"
	var pathOf func(i, depth int) string
	pathOf = func(i, depth int) string {
		it := &items[i]
		if it.IsRoot {
			return "/"
		}
		if it.Path != "" || depth > maxDepth {
			return it.Path
		}
		it.Path = resolving // a parent cycle inside the page resolves to ""
		parent := ""
		if j, ok := inPage[it.ParentID]; ok {
			parent = pathOf(j, depth+1)
		} else if s, ok := stored[it.ParentID]; ok {
			parent = s.Path
		}
		switch parent {
		case "", resolving:
			it.Path = ""
		case "/":
			it.Path = "/" + it.Name
		default:
			it.Path = parent + "/" + it.Name
		}
		return it.Path
	}
	for i := range items {
		pathOf(i, 0)
	}
	for i := range items {
		it := &items[i]
		old, existed := stored[it.ID]
		switch {
		case it.Path == "":
			cur.repath = true
		case existed && old.Path != it.Path:
			// Upserts keep the stored path; the recompute moves the item
			// and everything below it.
			cur.repath = true
		}
	}
	return nil
}

// dedupe keeps the last occurrence of each id, in first-seen order (Graph:
// the same item may appear more than once in a round; the last one counts).
func dedupe(in []msgraph.DriveItem) []msgraph.DriveItem {
	pos := make(map[string]int, len(in))
	out := make([]msgraph.DriveItem, 0, len(in))
	for _, it := range in {
		if i, ok := pos[it.ID]; ok {
			out[i] = it
			continue
		}
		pos[it.ID] = len(out)
		out = append(out, it)
	}
	return out
}
