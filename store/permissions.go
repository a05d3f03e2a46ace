package store

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"

	"github.com/overshare/overshare/models"
)

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
