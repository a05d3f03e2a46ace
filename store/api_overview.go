package store

import (
	"context"
	"fmt"

	"github.com/overshare/overshare/models"
)

// ScopeCount is how many items and permissions share at one scope. Direct grants to people
// (no link) count under "users".
type ScopeCount struct {
	Scope       string
	Items       int
	Permissions int
}

// Overview holds the dashboard counts of one integration. Sharing counts cover permissions set
// on the items themselves, never the owner's and never inherited copies (see ItemFilter).
type Overview struct {
	Items              int
	SharedItems        int
	ByScope            []ScopeCount // anonymous, organization, users; zero counts included
	ExternalShares     int
	LinksWithoutExpiry int
	EditLinks          int
	AnonymousEditLinks int
	Users              int
	Guests             int
	Drives             int
	// ExpiredLinks counts links whose expiry has passed and that still exist, ExpiredItems the
	// items holding them; every other sharing count covers live sharing only.
	ExpiredLinks, ExpiredItems int
}

const writeRole = `(',' || p.roles || ',') LIKE '%,write,%'`

// IntegrationOverview counts an integration's items, sharing, users and drives, in three
// statements whatever the tenant's size. Sharing counts are of live sharing at the moment of the
// call; expired links that still exist are counted apart.
func (s *Store) IntegrationOverview(ctx context.Context, integrationID string) (Overview, error) {
	var o Overview
	at := s.clock()
	var totals struct {
		Items  int
		Users  int
		Guests int
		Drives int
	}
	err := s.rdb.WithContext(ctx).Raw(`SELECT
	(SELECT COUNT(*) FROM drive_items WHERE integration_id = ? AND is_root = false) AS items,
	(SELECT COUNT(*) FROM users WHERE integration_id = ?) AS users,
	(SELECT COUNT(*) FROM users WHERE integration_id = ? AND user_type = ?) AS guests,
	(SELECT COUNT(*) FROM drives WHERE integration_id = ?) AS drives`,
		integrationID, integrationID, integrationID, models.UserTypeGuest, integrationID).Scan(&totals).Error
	if err != nil {
		return o, fmt.Errorf("overview totals: %w", err)
	}
	o.Items, o.Users, o.Guests, o.Drives = totals.Items, totals.Users, totals.Guests, totals.Drives

	var sharing struct {
		SharedItems        int
		ExternalShares     int
		LinksWithoutExpiry int
		EditLinks          int
		AnonymousEditLinks int
		ExpiredLinks       int
		ExpiredItems       int
	}
	// live is a CASE condition here: expired links are counted in the same pass.
	live := `(p.link_scope IS NULL OR p.expires_at IS NULL OR p.expires_at > ?)`
	err = s.rdb.WithContext(ctx).Raw(`SELECT
	COUNT(DISTINCT CASE WHEN `+live+` THEN p.item_id END) AS shared_items,
	COALESCE(SUM(CASE WHEN `+live+` AND `+externalPermission+` THEN 1 ELSE 0 END), 0) AS external_shares,
	COALESCE(SUM(CASE WHEN p.link_scope IS NOT NULL AND p.expires_at IS NULL THEN 1 ELSE 0 END), 0) AS links_without_expiry,
	COALESCE(SUM(CASE WHEN `+live+` AND p.link_scope IS NOT NULL AND `+writeRole+` THEN 1 ELSE 0 END), 0) AS edit_links,
	COALESCE(SUM(CASE WHEN `+live+` AND p.link_scope = 'anonymous' AND `+writeRole+` THEN 1 ELSE 0 END), 0) AS anonymous_edit_links,
	COALESCE(SUM(CASE WHEN `+expiredLink+` THEN 1 ELSE 0 END), 0) AS expired_links,
	COUNT(DISTINCT CASE WHEN `+expiredLink+` THEN p.item_id END) AS expired_items
FROM permissions p WHERE p.integration_id = ? AND `+sharedPermission, at, at, at, at, at, at, integrationID).Scan(&sharing).Error
	if err != nil {
		return o, fmt.Errorf("overview sharing: %w", err)
	}
	o.SharedItems, o.ExternalShares, o.LinksWithoutExpiry = sharing.SharedItems, sharing.ExternalShares, sharing.LinksWithoutExpiry
	o.EditLinks, o.AnonymousEditLinks = sharing.EditLinks, sharing.AnonymousEditLinks
	o.ExpiredLinks, o.ExpiredItems = sharing.ExpiredLinks, sharing.ExpiredItems

	var scopes []struct {
		Scope       string
		Items       int
		Permissions int
	}
	scopeOf := `CASE WHEN ` + scopeOrganization + ` THEN 'organization' ELSE COALESCE(p.link_scope, 'users') END`
	err = s.rdb.WithContext(ctx).Raw(`SELECT `+scopeOf+` AS scope,
	COUNT(DISTINCT p.item_id) AS items, COUNT(*) AS permissions
FROM permissions p WHERE p.integration_id = ? AND `+sharedPermission+` AND `+livePermission+`
GROUP BY `+scopeOf, integrationID, at).Scan(&scopes).Error
	if err != nil {
		return o, fmt.Errorf("overview scopes: %w", err)
	}
	for _, scope := range []string{models.LinkScopeAnonymous, models.LinkScopeOrganization, models.LinkScopeUsers} {
		c := ScopeCount{Scope: scope}
		for _, r := range scopes {
			if r.Scope == scope {
				c.Items, c.Permissions = r.Items, r.Permissions
			}
		}
		o.ByScope = append(o.ByScope, c)
	}
	return o, nil
}

// Sharer is a drive owner and how many of their items are shared.
type Sharer struct {
	UserID      string
	DriveName   string
	SharedItems int
}

// TopSharers returns the owners of the drives with the most shared items, most first.
func (s *Store) TopSharers(ctx context.Context, integrationID string, limit int) ([]Sharer, error) {
	if limit <= 0 {
		return nil, nil
	}
	if limit > MaxPageSize {
		limit = MaxPageSize
	}
	if _, err := s.expireDue(ctx, integrationID); err != nil {
		return nil, err
	}
	var rows []Sharer
	err := s.rdb.WithContext(ctx).Raw(`SELECT d.owner_user_id AS user_id, MAX(d.name) AS drive_name, COUNT(*) AS shared_items
FROM drive_items i JOIN drives d ON d.integration_id = i.integration_id AND d.id = i.drive_id
WHERE i.integration_id = ? AND i.sharing_flags <> 0
GROUP BY d.owner_user_id
ORDER BY COUNT(*) DESC, d.owner_user_id
LIMIT ?`, integrationID, limit).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("top sharers: %w", err)
	}
	return rows, nil
}

// A drive counts as near its quota from NearQuotaPercent used on.
const NearQuotaPercent = 90

// DrivesNearQuota returns drives whose quota state is not "normal" or that use at least
// NearQuotaPercent of their quota, fullest first.
func (s *Store) DrivesNearQuota(ctx context.Context, integrationID string, limit int) ([]models.Drive, error) {
	if limit <= 0 {
		return nil, nil
	}
	if limit > MaxPageSize {
		limit = MaxPageSize
	}
	var rows []models.Drive
	err := s.rdb.WithContext(ctx).
		Where("integration_id = ? AND quota_total > 0 AND (quota_state NOT IN ('', 'normal') OR quota_used * 100 >= quota_total * ?)", integrationID, NearQuotaPercent).
		Order("CAST(quota_used AS REAL) / quota_total DESC, id").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("drives near quota: %w", err)
	}
	return rows, nil
}
