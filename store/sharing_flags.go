package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/overshare/overshare/models"
)

// drive_items.sharing_flags summarises an item's own sharing (the permissions sharedPermission
// selects: set on the item itself, not the owner's) so that the sharing filters find items
// through an index instead of probing permissions item by item. Each bit is true when at least
// one such permission satisfies its condition, so a filter made of one sharing condition is
// answered by the flags alone; a filter combining conditions (which must hold on one and the
// same permission) is narrowed by them and then checked on permissions.
//
// The column is written only by refreshPermissionState, which every write to permissions calls
// in its transaction. Changing a condition below needs a new migration that recomputes the
// column (as migration 3 did).
const (
	flagShared       = 1 << iota // any own, non-owner permission
	flagAnonymous                // an anonymous link
	flagOrganization             // an organization link
	flagUsers                    // a specific-people link or a direct grant (no link)
	flagExternal                 // given to a guest or outsider (externalPermission)
	flagInternal                 // a permission not given to anybody external
	flagLink                     // any link
	flagExpiring                 // a link with an expiry
	flagNoExpiry                 // a link without expiry
	flagPassword                 // a link with a password
	flagNoPassword               // a link without password
	flagEditLink                 // a link of type edit
	// Pairs of conditions the dashboard asks for together, which must hold on one permission
	// (migration 4).
	flagAnonymousEdit     // an anonymous link of type edit
	flagAnonymousNoExpiry // an anonymous link without expiry
)

// sharingFlagConditions are the conditions on a permission row p behind each flag; they must
// stay identical to what permissionWhere asks of p.
var sharingFlagConditions = []struct {
	flag int
	cond string
}{
	{flagShared, "1 = 1"},
	{flagAnonymous, "p.link_scope = '" + models.LinkScopeAnonymous + "'"},
	{flagOrganization, "p.link_scope = '" + models.LinkScopeOrganization + "'"},
	{flagUsers, "(p.link_scope IS NULL OR p.link_scope = '" + models.LinkScopeUsers + "')"},
	{flagExternal, externalPermission},
	{flagInternal, "NOT " + externalPermission},
	{flagLink, "p.link_scope IS NOT NULL"},
	{flagExpiring, "p.link_scope IS NOT NULL AND p.expires_at IS NOT NULL"},
	{flagNoExpiry, "p.link_scope IS NOT NULL AND p.expires_at IS NULL"},
	{flagPassword, "p.link_scope IS NOT NULL AND p.has_password = true"},
	{flagNoPassword, "p.link_scope IS NOT NULL AND p.has_password = false"},
	{flagEditLink, "p.link_scope IS NOT NULL AND p.link_type = 'edit'"},
	{flagAnonymousEdit, "p.link_scope = '" + models.LinkScopeAnonymous + "' AND p.link_type = 'edit'"},
	{flagAnonymousNoExpiry, "p.link_scope = '" + models.LinkScopeAnonymous + "' AND p.expires_at IS NULL"},
}

// sharingFlagsOf is a scalar subquery computing the flags of the drive_items row in scope from
// its permissions (0 without any). A bitwise OR aggregate is not portable (SQLite has none), so
// each bit is the MAX of its own CASE and the bits are added.
func sharingFlagsOf() string {
	parts := make([]string, len(sharingFlagConditions))
	for i, c := range sharingFlagConditions {
		parts[i] = fmt.Sprintf("MAX(CASE WHEN %s THEN %d ELSE 0 END)", c.cond, c.flag)
	}
	return `COALESCE((SELECT ` + strings.Join(parts, " + ") + `
	FROM permissions p WHERE p.integration_id = drive_items.integration_id AND p.item_id = drive_items.id AND ` + sharedPermission + `), 0)`
}

// hasOwnPermissionOf is true when the drive_items row in scope holds a non-inherited
// permission (the owner's included): drive_items.has_own_permissions.
const hasOwnPermissionOf = `EXISTS (SELECT 1 FROM permissions p WHERE p.integration_id = drive_items.integration_id AND p.item_id = drive_items.id AND NOT p.inherited)`

// sharingStateOf is what refreshPermissionState stores for an item with these permissions,
// computed in Go from the same conditions, so that a sync page inserts its new items with it:
// a fresh row updated after its insert is written twice, with every index, and a first sync
// would do that for every shared item. refreshPermissionState still runs and corrects any row
// whose state this got wrong.
func sharingStateOf(perms []models.Permission) (hasOwn bool, flags int) {
	for i := range perms {
		p := perms[i]
		normalizePermission(&p)
		if p.Inherited {
			continue
		}
		hasOwn = true
		if strings.Contains(","+p.Roles+",", ",owner,") {
			continue // not sharedPermission
		}
		scope, link := "", p.LinkScope != nil
		if link {
			scope = *p.LinkScope
		}
		external := p.GrantedToExternal
		for _, g := range p.GrantedToIdentities {
			external = external || g.External
		}
		set := func(flag int, cond bool) {
			if cond {
				flags |= flag
			}
		}
		set(flagShared, true)
		set(flagAnonymous, link && scope == models.LinkScopeAnonymous)
		set(flagOrganization, link && scope == models.LinkScopeOrganization)
		set(flagUsers, !link || scope == models.LinkScopeUsers)
		set(flagExternal, external)
		set(flagInternal, !external)
		set(flagLink, link)
		set(flagExpiring, link && p.ExpiresAt != nil)
		set(flagNoExpiry, link && p.ExpiresAt == nil)
		set(flagPassword, link && p.HasPassword)
		set(flagNoPassword, link && !p.HasPassword)
		set(flagEditLink, link && p.LinkType == "edit")
		set(flagAnonymousEdit, link && scope == models.LinkScopeAnonymous && p.LinkType == "edit")
		set(flagAnonymousNoExpiry, link && scope == models.LinkScopeAnonymous && p.ExpiresAt == nil)
	}
	return hasOwn, flags
}

// refreshPermissionState recomputes has_own_permissions and sharing_flags of the listed items
// from their stored permissions. Only rows that change are written (a rewrite would touch
// every index). Items not stored are skipped.
func refreshPermissionState(t *tx, integrationID string, itemIDs []string) error {
	flags := sharingFlagsOf()
	stmt := `UPDATE drive_items SET has_own_permissions = ` + hasOwnPermissionOf + `, sharing_flags = ` + flags + `
WHERE integration_id = ? AND id IN ? AND (has_own_permissions <> ` + hasOwnPermissionOf + ` OR sharing_flags <> ` + flags + `)`
	return forChunks(itemIDs, 500, func(chunk []string) error {
		if err := t.db.Exec(stmt, integrationID, chunk).Error; err != nil {
			return fmt.Errorf("update sharing flags: %w", err)
		}
		return nil
	})
}

// RecomputePermissionState recomputes has_own_permissions and sharing_flags of every item of an
// integration from its permissions: for rows written around the store, such as a benchmark's
// COPY seed. The store's own writes keep them current.
func (s *Store) RecomputePermissionState(ctx context.Context, integrationID string) error {
	flags := sharingFlagsOf()
	err := s.db.WithContext(ctx).Exec(`UPDATE drive_items SET has_own_permissions = `+hasOwnPermissionOf+`, sharing_flags = `+flags+`
WHERE integration_id = ? AND (has_own_permissions <> `+hasOwnPermissionOf+` OR sharing_flags <> `+flags+`)`, integrationID).Error
	if err != nil {
		return fmt.Errorf("recompute sharing flags of integration %s: %w", integrationID, err)
	}
	return nil
}

// sharingFlagFilter returns the conditions on drive_items i that select the items f's sharing
// conditions can match, and whether they are exact (no permission needs checking). The masks are
// written as literals so that the partial indexes of migration 3, whose predicates are the same
// expressions, serve the query on both databases.
func (f ItemFilter) sharingFlagFilter() (conds []string, exact bool) {
	conds = []string{"i.sharing_flags <> 0"}
	groups, exact := 0, true
	add := func(mask int, precise bool) {
		conds = append(conds, fmt.Sprintf("(i.sharing_flags & %d) <> 0", mask))
		groups++
		exact = exact && precise
	}
	if len(f.Scopes) > 0 {
		mask := 0
		for _, s := range f.Scopes {
			switch s {
			case models.LinkScopeAnonymous:
				mask |= flagAnonymous
			case models.LinkScopeOrganization:
				mask |= flagOrganization
			case models.LinkScopeUsers:
				mask |= flagUsers
			}
		}
		add(mask, true)
	}
	if f.External != nil {
		if *f.External {
			add(flagExternal, true)
		} else {
			add(flagInternal, true)
		}
	}
	if len(f.LinkTypes) > 0 {
		onlyEdit := true
		for _, t := range f.LinkTypes {
			onlyEdit = onlyEdit && t == "edit"
		}
		if onlyEdit {
			add(flagEditLink, true)
		} else {
			// Link types are an open set: the flags only say "some link".
			add(flagLink, false)
		}
	}
	if f.HasExpiry != nil {
		if *f.HasExpiry {
			add(flagExpiring, true)
		} else {
			add(flagNoExpiry, true)
		}
	}
	if f.HasPassword != nil {
		if *f.HasPassword {
			add(flagPassword, true)
		} else {
			add(flagNoPassword, true)
		}
	}
	if exact && groups == 2 && len(f.Scopes) == 1 && f.Scopes[0] == models.LinkScopeAnonymous && f.External == nil && f.HasPassword == nil {
		switch {
		case len(f.LinkTypes) > 0 && f.HasExpiry == nil: // only edit, or it would not be exact
			return append(conds, fmt.Sprintf("(i.sharing_flags & %d) <> 0", flagAnonymousEdit)), true
		case len(f.LinkTypes) == 0 && f.HasExpiry != nil && !*f.HasExpiry:
			return append(conds, fmt.Sprintf("(i.sharing_flags & %d) <> 0", flagAnonymousNoExpiry)), true
		}
	}
	// Other conditions that must hold on one permission cannot be read off per-item flags.
	return conds, exact && groups <= 1
}
