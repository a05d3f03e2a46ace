package store

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"

	"github.com/overshare/overshare/models"
)

// ReplacePermissions makes the stored permissions of each listed item equal
// to the given list, in one transaction: rows not in the list are deleted,
// the others upserted. An item listed with an empty list ends with no rows.
// Items not listed are left alone. It also recomputes the items'
// has_own_permissions and sharing_flags (refreshPermissionState).
func (s *Store) ReplacePermissions(ctx context.Context, integrationID string, byItem map[string][]models.Permission) error {
	if len(byItem) == 0 {
		return nil
	}
	itemIDs := make([]string, 0, len(byItem))
	for id := range byItem {
		itemIDs = append(itemIDs, id)
	}
	sort.Strings(itemIDs) // a stable lock order between concurrent writers
	var rows []models.Permission
	stamp := now()
	for _, itemID := range itemIDs {
		seen := map[string]int{}
		for _, p := range byItem[itemID] {
			p.IntegrationID, p.ItemID, p.SyncedAt = integrationID, itemID, stamp
			normalizePermission(&p)
			if i, ok := seen[p.ID]; ok { // one row per key; the last wins
				rows[i] = p
				continue
			}
			seen[p.ID] = len(rows)
			rows = append(rows, p)
		}
	}
	err := s.inTx(ctx, func(t *tx) error {
		if t.dialect == Postgres && s.bulk == bulkCopy {
			if err := replacePermissionsCopy(ctx, t, integrationID, itemIDs, rows); err != nil {
				return err
			}
		} else {
			if err := forChunks(itemIDs, 500, func(chunk []string) error {
				return t.db.Exec(`DELETE FROM permissions WHERE integration_id = ? AND item_id IN ?`, integrationID, chunk).Error
			}); err != nil {
				return fmt.Errorf("delete old permissions: %w", err)
			}
			if err := gormUpsert(t, permissionsTable, rows); err != nil {
				return err
			}
		}
		return refreshPermissionState(t, integrationID, itemIDs)
	})
	if err != nil {
		return fmt.Errorf("replace permissions of %d items: %w", len(itemIDs), err)
	}
	return nil
}

// replacePermissionsCopy deletes the rows of the listed items that are not
// among the new rows and merges the new rows (through COPY or unnest), so an
// unchanged permission is not rewritten.
func replacePermissionsCopy(ctx context.Context, t *tx, integrationID string, itemIDs []string, rows []models.Permission) error {
	if !t.useCopy(len(rows)) {
		keepItems, keepIDs := make([]string, len(rows)), make([]string, len(rows))
		for i := range rows {
			keepItems[i], keepIDs[i] = rows[i].ItemID, rows[i].ID
		}
		sqlTx := t.db.Statement.ConnPool.(*sql.Tx)
		_, err := sqlTx.ExecContext(ctx, `DELETE FROM permissions p WHERE p.integration_id = $1 AND p.item_id = ANY($2)
	AND NOT EXISTS (SELECT 1 FROM unnest($3::text[], $4::text[]) AS k (item_id, id) WHERE k.item_id = p.item_id AND k.id = p.id)`,
			integrationID, itemIDs, keepItems, keepIDs)
		if err != nil {
			return fmt.Errorf("delete removed permissions: %w", err)
		}
		return copyUpsert(ctx, t, permissionsTable, len(rows), func(i int) []any { return permissionValues(&rows[i]) })
	}
	staging, err := stage(ctx, t, permissionsTable, len(rows), func(i int) []any { return permissionValues(&rows[i]) })
	if err != nil {
		return err
	}
	// database/sql passes []string through to pgx as a text[]; gorm would
	// expand it into a list.
	sqlTx := t.db.Statement.ConnPool.(*sql.Tx)
	_, err = sqlTx.ExecContext(ctx, `DELETE FROM permissions p WHERE p.integration_id = $1 AND p.item_id = ANY($2)
	AND NOT EXISTS (SELECT 1 FROM `+staging+` s WHERE s.item_id = p.item_id AND s.id = p.id)`, integrationID, itemIDs)
	if err != nil {
		return fmt.Errorf("delete removed permissions: %w", err)
	}
	if len(rows) == 0 {
		return nil
	}
	return mergeStaged(t, permissionsTable, staging)
}

// normalizePermission makes equal permissions compare equal: sorted roles,
// UTC times, no year-1 expiry (Graph's "0001-01-01T00:00:00Z" means none).
func normalizePermission(p *models.Permission) {
	if strings.Contains(p.Roles, ",") {
		roles := strings.Split(p.Roles, ",")
		sort.Strings(roles)
		p.Roles = strings.Join(roles, ",")
	}
	if p.ExpiresAt != nil && p.ExpiresAt.Year() <= 1 {
		p.ExpiresAt = nil
	}
	p.ExpiresAt = utcPtr(p.ExpiresAt)
	if p.GrantedToIdentities == nil {
		p.GrantedToIdentities = models.Identities{}
	}
}
