package sharing

import (
	"context"

	"github.com/overshare/overshare/auth"
	"github.com/overshare/overshare/sharing/change"
	"github.com/overshare/overshare/store"
)

// StopSelected removes exactly the permissions of a bulk selection (store.SelectToStop), item
// by item as StopSharing does: an item is never asked for "all", so a filter on links removes
// those links and nothing else, and an item with no matching permission is left alone.
func (s *Service) StopSelected(ctx context.Context, actor auth.Principal, sel *store.StopSelection) ([]change.Outcome, error) {
	var items []change.Item
	for i := range sel.Items {
		perms := sel.Matching[sel.Items[i].ID]
		if len(perms) == 0 {
			continue
		}
		it := change.Item{ItemID: sel.Items[i].ID, PermissionIDs: make([]string, len(perms))}
		for j := range perms {
			it.PermissionIDs[j] = perms[j].ID
		}
		items = append(items, it)
	}
	return s.StopSharing(ctx, actor, sel.IntegrationID, items)
}
