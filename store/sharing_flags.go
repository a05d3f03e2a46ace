package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/overshare/overshare/models"
)

// drive_items.sharing_flags summarises an item's own sharing (the permissions sharedPermission
// selects: set on the item itself, not the owner's) so that the sharing filters find items
// through an index instead of probing permissions item by item. Each bit is true when at least
// one such permission satisfies its condition, so a filter made of one sharing condition is
// answered by the flags alone; a filter combining conditions (which must hold on one and the
// same permission) is narrowed by them and then checked on permissions.
//
// The flags describe live sharing only: a link whose expiry has passed gives no access, so it sets
// no flag (Microsoft 365 keeps listing it until someone removes it). Time passes without any
// change in Microsoft 365, so two more columns keep the flags exact: next_expiry, the earliest
// expiry among the live links the flags were computed from, and expired_links, whether the item
// holds a link that has expired. An item whose next_expiry has passed is stale; every read that
// relies on the flags first recomputes the stale items (expireDue), which finds them through an
// index and is nothing at all while no link has expired since.
//
// The columns are written only by refreshPermissionState, which every write to permissions calls
// in its transaction. Changing a condition below needs a new migration that recomputes the
// column (as migrations 3 and 8 did).
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
	{flagAnonymous, scopeAnonymous},
	{flagOrganization, scopeOrganization},
	{flagUsers, scopeUsers},
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
// all its permissions, expired links included (0 without any): the flags as migrations 3 and 4
// wrote them, kept for those migrations. The store's writes use liveSharingFlagsOf.
func sharingFlagsOf() string {
	return `COALESCE((SELECT ` + flagSum() + `
	FROM permissions p WHERE p.integration_id = drive_items.integration_id AND p.item_id = drive_items.id AND ` + sharedPermission + `), 0)`
}

// flagSum adds up the flags of the permissions p in scope. A bitwise OR aggregate is not portable
// (SQLite has none), so each bit is the MAX of its own CASE and the bits are added.
func flagSum() string {
	parts := make([]string, len(sharingFlagConditions))
	for i, c := range sharingFlagConditions {
		parts[i] = fmt.Sprintf("MAX(CASE WHEN %s THEN %d ELSE 0 END)", c.cond, c.flag)
	}
	return strings.Join(parts, " + ")
}

// livePermission is true for a permission p that gives access at the moment bound to its ?: a
// grant without a link, a link without expiry, or a link that expires later. expiredLink is its
// opposite among links.
const (
	livePermission = `(p.link_scope IS NULL OR p.expires_at IS NULL OR p.expires_at > ?)`
	expiredLink    = `(p.link_scope IS NOT NULL AND p.expires_at <= ?)`
)

const ownSharing = `p.integration_id = drive_items.integration_id AND p.item_id = drive_items.id AND ` + sharedPermission

// itemSharingState lists the columns refreshPermissionState recomputes with the expression of
// each over the drive_items row in scope; every ? in them is the moment of the computation.
var itemSharingState = []struct{ col, expr string }{
	{"has_own_permissions", hasOwnPermissionOf},
	{"sharing_flags", `COALESCE((SELECT ` + flagSum() + ` FROM permissions p WHERE ` + ownSharing + ` AND ` + livePermission + `), 0)`},
	{"next_expiry", `(SELECT MIN(p.expires_at) FROM permissions p WHERE ` + ownSharing + ` AND p.link_scope IS NOT NULL AND p.expires_at > ?)`},
	{"expired_links", `EXISTS (SELECT 1 FROM permissions p WHERE ` + ownSharing + ` AND ` + expiredLink + `)`},
}

// sharingStateUpdate is the statement that recomputes the sharing state of drive items at a
// moment, writing only the rows that change (a rewrite would touch every index), and the
// arguments it takes besides the condition on the rows (cond, condArgs).
func sharingStateUpdate(at time.Time, cond string, condArgs ...any) (string, []any) {
	var set, differs []string
	var setArgs, differArgs []any
	for _, c := range itemSharingState {
		set = append(set, c.col+" = "+c.expr)
		differs = append(differs, c.col+" IS DISTINCT FROM "+c.expr)
		for range strings.Count(c.expr, "?") {
			setArgs = append(setArgs, at)
			differArgs = append(differArgs, at)
		}
	}
	stmt := `UPDATE drive_items SET ` + strings.Join(set, ", ") + ` WHERE ` + cond + ` AND (` + strings.Join(differs, " OR ") + `)`
	return stmt, append(append(setArgs, condArgs...), differArgs...)
}

// hasOwnPermissionOf is true when the drive_items row in scope holds a non-inherited
// permission (the owner's included): drive_items.has_own_permissions.
const hasOwnPermissionOf = `EXISTS (SELECT 1 FROM permissions p WHERE p.integration_id = drive_items.integration_id AND p.item_id = drive_items.id AND NOT p.inherited)`

// sharingStateOf is what refreshPermissionState stores for an item with these permissions at a
// moment (its has_own_permissions and sharing_flags), computed in Go from the same conditions, so that a sync page inserts its new items with it:
// a fresh row updated after its insert is written twice, with every index, and a first sync
// would do that for every shared item. refreshPermissionState still runs and corrects any row
// whose state this got wrong.
func sharingStateOf(perms []models.Permission, at time.Time) (hasOwn bool, flags int) {
	for i := range perms {
		p := perms[i]
		normalizePermission(&p)
		if p.Inherited {
			continue
		}
		hasOwn = true
		if p.LinkScope != nil && p.ExpiresAt != nil && !p.ExpiresAt.After(at) {
			continue // expired: not livePermission
		}
		scope, link := "", p.LinkScope != nil
		if link {
			scope = *p.LinkScope
		}
		roles := "," + p.Roles + ","
		if strings.Contains(roles, ",owner,") || strings.Contains(roles, ","+limitedAccessRole+",") || scope == existingAccessScope {
			continue // not sharedPermission
		}
		everyone := !link && p.GrantedToKind == models.GranteeOrganization
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
		set(flagOrganization, link && scope == models.LinkScopeOrganization || everyone)
		set(flagUsers, !link && !everyone || scope == models.LinkScopeUsers)
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

// refreshPermissionState recomputes the sharing state (itemSharingState) of the listed items
// from their stored permissions as of the transaction's moment. Items not stored are skipped.
func refreshPermissionState(t *tx, integrationID string, itemIDs []string) error {
	return forChunks(itemIDs, 500, func(chunk []string) error {
		stmt, args := sharingStateUpdate(t.now, "integration_id = ? AND id IN ?", integrationID, chunk)
		if err := t.db.Exec(stmt, args...).Error; err != nil {
			return fmt.Errorf("update sharing flags: %w", err)
		}
		return nil
	})
}

// RecomputePermissionState recomputes the sharing state of every item of an integration from
// its permissions: for rows written around the store, such as a benchmark's COPY seed. The
// store's own writes keep it current.
func (s *Store) RecomputePermissionState(ctx context.Context, integrationID string) error {
	stmt, args := sharingStateUpdate(s.clock(), "integration_id = ?", integrationID)
	if err := s.db.WithContext(ctx).Exec(stmt, args...).Error; err != nil {
		return fmt.Errorf("recompute sharing flags of integration %s: %w", integrationID, err)
	}
	return nil
}

// expiryProbe finds items whose sharing state went stale because a link expired.
const expiryProbe = `SELECT id FROM drive_items WHERE integration_id = ? AND next_expiry <= ? LIMIT 500`

// expireDue recomputes the sharing state of the integration's items whose next link expiry has
// passed, so that what the flags say is true at the moment it returns, which the caller's query
// then asks about. It probes drive_items_next_expiry on the read connections and writes only
// when a link has expired since the last recompute.
func (s *Store) expireDue(ctx context.Context, integrationID string) (time.Time, error) {
	at := s.clock()
	for {
		var ids []string
		err := s.rdb.WithContext(ctx).Raw(expiryProbe, integrationID, at).Scan(&ids).Error
		if err != nil {
			return at, fmt.Errorf("find expired links: %w", err)
		}
		if len(ids) == 0 {
			return at, nil
		}
		err = s.inTxAt(ctx, at, func(t *tx) error {
			// The permissions stay as they are: the history records the links that expired.
			h, err := beginHistory(t, integrationID, ids, historyCause{source: models.SourceClock})
			if err != nil {
				return err
			}
			if err := refreshPermissionState(t, integrationID, ids); err != nil {
				return err
			}
			return h.finish(t, h.before, nil)
		})
		if err != nil {
			return at, fmt.Errorf("recompute sharing of items whose links expired: %w", err)
		}
	}
}

// sharingFlagFilter returns the conditions on drive_items i that select the items f's sharing
// conditions can match, and whether they are exact (no permission needs checking). The masks are
// written as literals so that the partial indexes of migration 3, whose predicates are the same
// expressions, serve the query on both databases.
func (f ItemFilter) sharingFlagFilter() (conds []string, exact bool) {
	if f.Expired {
		// The flags are live sharing only; expired links have their own column and index.
		only := len(f.Scopes) == 0 && f.External == nil && len(f.LinkTypes) == 0 && f.HasExpiry == nil && f.HasPassword == nil
		return []string{"i.expired_links = true"}, only
	}
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
