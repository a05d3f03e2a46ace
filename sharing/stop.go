package sharing

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/overshare/overshare/auth"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/msgraph"
	"github.com/overshare/overshare/sharing/change"
	"github.com/overshare/overshare/store"
)

// StopSharing removes permissions of items of one integration, Concurrency items at a time,
// and returns one outcome per permission attempted, in the order of items. Per-permission
// failures are outcomes; the error is for failures of the whole call (the integration is
// unknown, the database failed, ctx ended).
func (s *Service) StopSharing(ctx context.Context, actor auth.Principal, integrationID string, items []change.Item) ([]change.Outcome, error) {
	items = mergeItems(items)
	if len(items) == 0 {
		return nil, nil
	}
	gc, _, err := s.client(ctx, integrationID)
	if err != nil {
		return nil, err
	}
	keys := make([]store.RowKey, 0, len(items))
	for _, it := range items {
		keys = append(keys, store.RowKey{IntegrationID: integrationID, ID: it.ItemID})
	}
	stored, err := s.st.ItemsByKey(ctx, keys)
	if err != nil {
		return nil, err
	}

	results := make([][]change.Outcome, len(items))
	errs := make([]error, len(items))
	var g errgroup.Group
	g.SetLimit(s.cfg.Concurrency)
	for i := range items {
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error {
			k := store.RowKey{IntegrationID: integrationID, ID: items[i].ItemID}
			it := stored[k]
			if it == nil {
				results[i] = unknownItem(items[i])
				return nil
			}
			job := itemJob{s: s, gc: gc, actor: actor, item: it}
			results[i], errs[i] = job.runLocked(ctx, items[i])
			return nil // each item's error is kept in errs; the others go on
		})
	}
	_ = g.Wait()

	var out []change.Outcome
	for i := range items {
		out = append(out, results[i]...)
	}
	if err := errors.Join(errs...); err != nil {
		return out, err
	}
	if err := ctx.Err(); err != nil {
		return out, err
	}
	return out, nil
}

// mergeItems makes one entry per item, so that no permission is sent to Graph twice: an entry
// with All (everything of the item's own) wins over lists of ids. An entry asking for nothing
// (no All, no ids) is dropped.
func mergeItems(items []change.Item) []change.Item {
	at := make(map[string]int, len(items))
	var out []change.Item
	for _, it := range items {
		if !it.All && len(it.PermissionIDs) == 0 {
			continue
		}
		i, ok := at[it.ItemID]
		if !ok {
			at[it.ItemID] = len(out)
			e := change.Item{ItemID: it.ItemID, All: it.All}
			if !it.All {
				e.PermissionIDs = slices.Clone(it.PermissionIDs)
			}
			out = append(out, e)
			continue
		}
		if out[i].All || it.All {
			out[i].All, out[i].PermissionIDs = true, nil
			continue
		}
		out[i].PermissionIDs = append(out[i].PermissionIDs, it.PermissionIDs...)
	}
	return out
}

// itemJob removes permissions of one item, one at a time, then lists the item's permissions
// once more to confirm.
type itemJob struct {
	s       *Service
	gc      *msgraph.Client
	actor   auth.Principal
	item    *models.DriveItem
	perms   []*models.Permission
	folders map[store.RowKey]*models.DriveItem
}

// attempt is what Graph answered to the DELETE of one permission (nil err: 204), or why it
// was not sent (refused).
type attempt struct {
	p       *models.Permission
	sent    bool
	err     error
	refused string // sent == false: the reason, in words
}

// unknownItem answers the listed ids of an item the database does not hold (deleted since
// it was listed, or never synced): each fails, naming it; All finds nothing to remove.
func unknownItem(it change.Item) []change.Outcome {
	var out []change.Outcome
	for _, id := range it.PermissionIDs {
		out = append(out, change.Outcome{ItemID: it.ItemID, PermissionID: id, Result: models.AuditFailed,
			Message: fmt.Sprintf("Overshare does not know permission %q on this item, nor the item (it may have been deleted since); sync again if it was just created. Nothing was sent to Microsoft 365.", id)})
	}
	return out
}

// runLocked works on the item under its lock: the item's permissions are read from the
// database after the lock is taken, so a call that waited sees what the one before it did.
func (j *itemJob) runLocked(ctx context.Context, it change.Item) ([]change.Outcome, error) {
	key := store.RowKey{IntegrationID: j.item.IntegrationID, ID: j.item.ID}
	unlock, err := j.s.locks.lock(ctx, key)
	if err != nil {
		return nil, err
	}
	defer unlock()
	perms, err := j.s.st.PermissionsByItem(ctx, []store.RowKey{key})
	if err != nil {
		return nil, err
	}
	j.perms = perms[key]
	// The folders inherited permissions come from, for the refusal message.
	var fromKeys []store.RowKey
	for _, p := range j.perms {
		if p.Inherited && p.InheritedFromID != nil {
			fromKeys = append(fromKeys, store.RowKey{IntegrationID: j.item.IntegrationID, ID: *p.InheritedFromID})
		}
	}
	if j.folders, err = j.s.st.ItemsByKey(ctx, fromKeys); err != nil {
		return nil, err
	}
	targets, unknown := j.targets(it)
	out, err := j.run(ctx, targets)
	if err != nil {
		return out, err
	}
	unknownOut, err := j.unknown(ctx, unknown)
	return append(out, unknownOut...), err
}

func (j *itemJob) run(ctx context.Context, targets []*models.Permission) ([]change.Outcome, error) {
	if len(targets) == 0 {
		return nil, nil
	}
	tries := make([]attempt, 0, len(targets))
	for _, p := range targets {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		a := attempt{p: p}
		switch {
		case p.Inherited:
			a.refused = j.inheritedMessage(ctx, p)
		case isOwner(p):
			a.refused = "This is the owner's access to their own file; Microsoft 365 does not let it be removed."
		default:
			a.sent = true
			a.err = j.gc.DeletePermission(ctx, j.item.DriveID, j.item.ID, p.ID)
			if a.err != nil && ctx.Err() != nil {
				return nil, ctx.Err()
			}
		}
		tries = append(tries, a)
	}
	// One read of the item's permissions says what is still there, whatever Graph answered.
	listed, lerr := j.gc.ItemPermissions(ctx, j.item.DriveID, j.item.ID)
	switch {
	case lerr != nil && ctx.Err() != nil:
		return nil, ctx.Err()
	case msgraph.KindOf(lerr) == msgraph.NotFound:
		listed, lerr = nil, nil // the item is gone, and every permission with it
	}
	out := make([]change.Outcome, 0, len(tries))
	inheritedNow := map[string]*models.DriveItem{} // refused as inherited: the folder holding it
	for _, a := range tries {
		o := j.outcome(ctx, a, listed, lerr, inheritedNow)
		out = append(out, o)
	}
	if err := j.updateFromList(ctx, out, listed, lerr, inheritedNow); err != nil {
		return out, err
	}
	for k, a := range tries {
		if err := j.s.audit(ctx, j.actor, models.AuditStopSharing, j.item, a.p, out[k]); err != nil {
			return out, err
		}
	}
	return out, nil
}

// targets are the permissions to remove: with All, every permission of the item's own that
// is sharing; otherwise the listed ids the database holds for the item, each once. unknown are
// the listed ids it does not hold, in the order asked.
func (j *itemJob) targets(it change.Item) (targets []*models.Permission, unknown []string) {
	if it.All {
		for _, p := range j.perms {
			if p.IsSharing() {
				targets = append(targets, p)
			}
		}
		return targets, nil
	}
	byID := make(map[string]*models.Permission, len(j.perms))
	for _, p := range j.perms {
		byID[p.ID] = p
	}
	seen := map[string]bool{}
	for _, id := range it.PermissionIDs {
		if seen[id] {
			continue
		}
		seen[id] = true
		if p := byID[id]; p != nil {
			targets = append(targets, p)
		} else {
			unknown = append(unknown, id)
		}
	}
	return targets, unknown
}

// unknown answers the listed ids the database does not hold for the item, without calling
// Graph and without an audit event (nothing was done): an id that Overshare removed from this
// item before (a repeated call, or a concurrent one that went first) is already removed, as
// the audit log says; any other fails, naming it, so that a script learns that it asked for
// something Overshare has never shown.
func (j *itemJob) unknown(ctx context.Context, ids []string) ([]change.Outcome, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	removals, err := j.s.st.LastRemovals(ctx, j.item.IntegrationID, j.item.ID, ids)
	if err != nil {
		return nil, err
	}
	out := make([]change.Outcome, 0, len(ids))
	for _, id := range ids {
		o := change.Outcome{ItemID: j.item.ID, PermissionID: id, Result: models.AuditFailed,
			Message: fmt.Sprintf("Overshare does not know permission %q on this item; sync again if it was just created. Nothing was sent to Microsoft 365.", id)}
		if ev := removals[id]; ev != nil {
			who := ev.ActorName
			if who == "" {
				who = ev.ActorSubject
			}
			o.Result = models.AuditAlreadyRemoved
			o.Confirmed = strings.HasPrefix(ev.Message, "Confirmed removed")
			o.Message = fmt.Sprintf("Already removed: Overshare removed it from this item on %s (by %s); nothing was sent to Microsoft 365 again.",
				expiryWords(ev.At), who)
		}
		out = append(out, o)
	}
	return out, nil
}
