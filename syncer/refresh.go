package syncer

import (
	"context"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/msgraph"
	"github.com/overshare/overshare/store"
)

// Scheduled refreshes (doc.go): delta misses some sharing changes (folders
// are never marked sharedChanged; a change that keeps a folder's scope
// leaves its facet as it was) and every retention deletion, so incremental
// runs also re-read a drive's stored permission-hierarchy roots every
// RootRefreshInterval and enumerate it in full, with mark and sweep, every
// SweepInterval.

// due reports whether a refresh that runs every `every` is due for a drive
// at the syncer's clock. Each drive has its own phase within the interval
// (from a hash of its id), and is due once a point of its phase has passed
// since the last refresh: drives are refreshed once an interval each, spread
// evenly over it, so the cost is spread over the day rather than spent at
// once. A drive never refreshed counts from its last sync (fallback), so an
// upgrade does not refresh everything at once; with neither it is due.
func (r *run) due(last, fallback *time.Time, every time.Duration, driveID string) bool {
	if every <= 0 {
		return false
	}
	if last == nil {
		last = fallback
	}
	if last == nil {
		return true
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(driveID))
	off := int64(h.Sum64() % uint64(every))
	slot := func(t time.Time) int64 { return (t.UnixNano() + off) / int64(every) }
	return slot(r.s.cfg.Now()) > slot(*last)
}

// refreshChunk is how many roots are read before their drives are written:
// whole $batch requests across drives, a bounded number held in memory.
const refreshChunk = 10 * batchSize

// refreshRoots re-reads the stored permission-hierarchy roots of the drives
// whose refresh is due (a drive swept in this run had them read already),
// 20 a $batch across drives, and writes their permissions drive by drive.
func (r *run) refreshRoots(ctx context.Context, drives []driveRef) error {
	every := r.s.cfg.RootRefreshInterval
	if every <= 0 || r.full {
		return nil
	}
	states, err := r.st.DriveSyncStates(ctx, r.integ.ID)
	if err != nil {
		return err
	}
	byDrive := make(map[string]*models.DriveSyncState, len(states))
	for i := range states {
		byDrive[states[i].DriveID] = &states[i]
	}
	// Drives skipped as locked or closed to the app wait for a run that
	// can read them.
	stored, err := r.st.Drives(ctx, r.integ.ID)
	if err != nil {
		return err
	}
	closed := map[string]bool{}
	for _, d := range stored {
		closed[d.ID] = d.Access != models.DriveReadable
	}
	now := r.s.cfg.Now()
	var (
		held  []string // drives whose roots are in refs
		roots = map[string][]store.SyncRoot{}
		refs  []msgraph.ItemRef
	)
	flush := func() error {
		if len(held) == 0 {
			return nil
		}
		err := r.rereadRoots(ctx, held, roots, refs, now)
		held, roots, refs = nil, map[string][]store.SyncRoot{}, nil
		return err
	}
	for _, d := range drives {
		st := byDrive[d.id]
		if st == nil || st.DeltaLink == nil || closed[d.id] || !r.due(st.RootsRefreshedAt, st.LastSyncedAt, every, d.id) {
			continue
		}
		rs, err := r.st.SyncHierarchyRoots(ctx, r.integ.ID, d.id)
		if err != nil {
			return err
		}
		held, roots[d.id] = append(held, d.id), rs
		for _, x := range rs {
			refs = append(refs, msgraph.ItemRef{DriveID: d.id, ItemID: x.ID})
		}
		if len(refs) >= refreshChunk {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// rereadRoots reads the given roots' permissions and writes them, with the
// drives' new roots_refreshed_at. A root gone since (404: deleted, perhaps
// by a retention policy that delta never reports) keeps its rows until the
// drive's next sweep removes it. A drive locked or closed since its round
// is left for a later run, the others are written.
func (r *run) rereadRoots(ctx context.Context, drives []string, roots map[string][]store.SyncRoot, refs []msgraph.ItemRef, at time.Time) error {
	listed, err := r.listRoots(ctx, refs)
	if msgraph.KindOf(err).DriveInaccessible() && len(drives) > 1 {
		// One drive closed between its round and now: drive by drive.
		for _, driveID := range drives {
			var own []msgraph.ItemRef
			for _, x := range roots[driveID] {
				own = append(own, msgraph.ItemRef{DriveID: driveID, ItemID: x.ID})
			}
			if err := r.rereadRoots(ctx, []string{driveID}, roots, own, at); err != nil {
				return err
			}
		}
		return nil
	}
	if msgraph.KindOf(err).DriveInaccessible() {
		r.log.Info("drive not readable, its roots wait for a later run", "drive", drives[0], "reason", Message(err))
		return nil
	}
	if err != nil {
		return fmt.Errorf("re-read sharing of permission-hierarchy roots: %w", err)
	}
	for _, driveID := range drives {
		byID := make(map[string]*msgraph.DriveItem, len(roots[driveID]))
		read := make(map[string][]msgraph.Permission, len(roots[driveID]))
		var cands []string
		for _, x := range roots[driveID] {
			perms, ok := listed[msgraph.ItemRef{DriveID: driveID, ItemID: x.ID}]
			if !ok {
				continue
			}
			// The facet delta last gave it decides, as in classify: with one, what it
			// lists is its own; without (its unique permissions were deleted since),
			// inherited.
			it := &msgraph.DriveItem{ID: x.ID, DriveID: driveID, ParentID: x.ParentID}
			if x.SharedScope != nil {
				it.Shared = &msgraph.Shared{Scope: *x.SharedScope, Empty: *x.SharedScope == ""}
			}
			byID[x.ID] = it
			read[x.ID] = perms
			cands = append(cands, x.ID)
		}
		perms := r.classify(driveID, byID, cands, read)
		if err := r.st.RefreshPermissions(ctx, r.integ.ID, driveID, perms, at); err != nil {
			return err
		}
		r.add(ctx, counts{permissions: int64(len(cands)), rootsRefreshed: int64(len(cands))})
	}
	return nil
}

func (r *run) listRoots(ctx context.Context, refs []msgraph.ItemRef) (map[msgraph.ItemRef][]msgraph.Permission, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	t0 := time.Now()
	defer func() { r.graphNanos.Add(int64(time.Since(t0))) }()
	return r.gc.ListPermissionsOf(ctx, refs)
}
