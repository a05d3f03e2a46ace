package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/overshare/overshare/models"
)

// ItemFilter selects drive items. The sharing conditions (Scopes, External, LinkTypes,
// HasExpiry, HasPassword) all apply to one and the same permission: "anonymous links without
// expiry" means an item holding an anonymous link that has no expiry. Only permissions set on
// the item itself count, and never the owner's: an item "is shared" when it holds at least one
// such permission. Inherited permissions are left out because the sync engine reads permissions
// only for items whose sharing is their own, so an inherited row exists for some descendants and
// not others; the folder that holds the sharing is the item to look at and act on.
type ItemFilter struct {
	// Scopes: anonymous, organization, users. "users" also matches direct grants to people
	// (permissions without a link).
	Scopes []string
	// External: true = shared with a guest or an address outside the tenant; false = shared,
	// but with nobody external.
	External *bool
	// LinkTypes: view, edit, embed, … (any of them).
	LinkTypes   []string
	HasExpiry   *bool
	HasPassword *bool
	// Expired selects, instead of live sharing, the links whose expiry has passed and that
	// Microsoft 365 still lists until someone removes them: the ones to clean up. The other
	// sharing conditions then apply to such a link. Without it every condition means live
	// sharing: a grant, a link without expiry, or a link that has not expired yet.
	Expired bool
	// SharedOnly keeps only items that are shared; implied by every sharing condition above.
	SharedOnly bool
	// OwnerUserID keeps items of drives that user owns; DriveID items of that drive.
	OwnerUserID string
	DriveID     string
	// Search matches the item name, case-insensitively, anywhere.
	Search         string
	ModifiedAfter  *time.Time
	ModifiedBefore *time.Time
}

// Item orderings.
const (
	ItemOrderModified = "modified"
	ItemOrderName     = "name"
	ItemOrderSize     = "size"
)

// ItemOrder orders drive items; the zero value is most recently modified first.
type ItemOrder struct {
	Field string // ItemOrderModified (default), ItemOrderName, ItemOrderSize
	Desc  bool
}

// DefaultItemOrder is most recently modified first.
var DefaultItemOrder = ItemOrder{Field: ItemOrderModified, Desc: true}

func (o ItemOrder) key() (sortKey, error) {
	k := sortKey{idExpr: "i.id", desc: o.Desc}
	switch o.Field {
	case ItemOrderModified, "":
		k.name, k.expr, k.kind, k.nullable = ItemOrderModified, "i.last_modified_date_time", keyTime, true
	case ItemOrderName:
		k.name, k.expr, k.kind = ItemOrderName, "lower(i.name)", keyString
	case ItemOrderSize:
		k.name, k.expr, k.kind = ItemOrderSize, "i.size", keyInt
	default:
		return k, fmt.Errorf("order drive items by %q: unknown field", o.Field)
	}
	return k, nil
}

func (o ItemOrder) value(it *models.DriveItem) any {
	switch o.Field {
	case ItemOrderName:
		return strings.ToLower(it.Name)
	case ItemOrderSize:
		return it.Size
	}
	return it.LastModifiedDateTime
}

// sharedPermission is the condition on a permission row p that makes its item shared: set on
// the item itself, and neither the owner's grant, nor limited access (a principal that may
// reach something below, not the item), nor an existingAccess link (it grants nothing new).
// Roles are stored lowercased.
const sharedPermission = `p.inherited = false AND (',' || p.roles || ',') NOT LIKE '%,owner,%'` +
	` AND (',' || p.roles || ',') NOT LIKE '%,` + limitedAccessRole + `,%'` +
	` AND (p.link_scope IS NULL OR p.link_scope <> '` + existingAccessScope + `')`

// What SharePoint lists but is not sharing.
const (
	limitedAccessRole   = models.RoleLimitedAccess
	existingAccessScope = models.LinkScopeExistingAccess
)

// The scope conditions on a permission row p, shared by the sharing filters and the flags: a
// grant to "Everyone except external users" (granted_to_kind organization) reaches the whole
// organisation; every other grant without a link reaches specific people.
const (
	scopeAnonymous    = `p.link_scope = '` + models.LinkScopeAnonymous + `'`
	scopeOrganization = `(p.link_scope = '` + models.LinkScopeOrganization + `' OR (p.link_scope IS NULL AND p.granted_to_kind = '` + models.GranteeOrganization + `'))`
	scopeUsers        = `(p.link_scope = '` + models.LinkScopeUsers + `' OR (p.link_scope IS NULL AND p.granted_to_kind <> '` + models.GranteeOrganization + `'))`
)

// externalPermission is true for a grant to a guest or outsider, or a specific-people link
// given to at least one of them (identities are stored as JSON; "external" is written only
// when true).
const externalPermission = `(p.granted_to_external = true OR p.granted_to_identities LIKE '%"external":true%')`

// where is the condition on drive_items i for f, with links expiring against the moment at.
func (f ItemFilter) where(integrationID string, at time.Time) (*where, error) {
	w := &where{}
	w.add("i.integration_id = ?", integrationID)
	w.add("i.is_root = false")
	if f.DriveID != "" {
		w.add("i.drive_id = ?", f.DriveID)
	}
	if f.OwnerUserID != "" {
		w.add("i.drive_id IN (SELECT d.id FROM drives d WHERE d.integration_id = ? AND d.owner_user_id = ?)", integrationID, f.OwnerUserID)
	}
	if f.Search != "" {
		w.addSearch(f.Search, "i.name")
	}
	if f.ModifiedAfter != nil {
		w.add("i.last_modified_date_time >= ?", f.ModifiedAfter.UTC())
	}
	if f.ModifiedBefore != nil {
		w.add("i.last_modified_date_time < ?", f.ModifiedBefore.UTC())
	}
	p, sharing, err := f.permissionWhere(at)
	if err != nil {
		return nil, err
	}
	if sharing {
		// The flags narrow the items through an index; permissions are read only when the
		// flags cannot answer alone.
		conds, exact := f.sharingFlagFilter()
		for _, c := range conds {
			w.add(c)
		}
		if !exact {
			// An uncorrelated IN rather than EXISTS: SQLite, without statistics, probes each
			// item through permissions_scope (every permission of that scope, per item) and
			// holds its one connection for a quarter of a second at 10,000 items; the IN list is
			// built once. PostgreSQL plans both as the same semi-join.
			w.add("i.id IN (SELECT p.item_id FROM permissions p WHERE p.integration_id = ? AND "+p.sql()+")",
				append([]any{integrationID}, p.args...)...)
		}
	}
	return w, nil
}

// permissionWhere returns the conditions on a permission row p that f asks for at the moment at,
// and whether f asks for sharing at all.
func (f ItemFilter) permissionWhere(at time.Time) (*where, bool, error) {
	p := &where{}
	p.add(sharedPermission)
	if f.Expired {
		p.add(expiredLink, at)
	} else {
		p.add(livePermission, at)
	}
	sharing := f.SharedOnly || f.Expired
	if len(f.Scopes) > 0 {
		var alts []string
		for _, s := range f.Scopes {
			switch s {
			case models.LinkScopeAnonymous:
				alts = append(alts, scopeAnonymous)
			case models.LinkScopeOrganization:
				alts = append(alts, scopeOrganization)
			case models.LinkScopeUsers:
				alts = append(alts, scopeUsers)
			default:
				return nil, false, fmt.Errorf("filter drive items by scope %q: unknown scope", s)
			}
		}
		p.add("(" + strings.Join(alts, " OR ") + ")")
		sharing = true
	}
	if f.External != nil {
		if *f.External {
			p.add(externalPermission)
		} else {
			p.add("NOT " + externalPermission)
		}
		sharing = true
	}
	if len(f.LinkTypes) > 0 {
		args := make([]any, len(f.LinkTypes))
		for i, t := range f.LinkTypes {
			args[i] = t
		}
		p.add("p.link_scope IS NOT NULL AND p.link_type IN ("+placeholders(len(args))+")", args...)
		sharing = true
	}
	if f.HasExpiry != nil {
		if *f.HasExpiry {
			p.add("p.link_scope IS NOT NULL AND p.expires_at IS NOT NULL")
		} else {
			p.add("p.link_scope IS NOT NULL AND p.expires_at IS NULL")
		}
		sharing = true
	}
	if f.HasPassword != nil {
		p.add("p.link_scope IS NOT NULL AND p.has_password = ?", *f.HasPassword)
		sharing = true
	}
	return p, sharing, nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// ListDriveItems returns one page of an integration's drive items matching f, in order o.
func (s *Store) ListDriveItems(ctx context.Context, integrationID string, f ItemFilter, o ItemOrder, page PageRequest) (Page[models.DriveItem], error) {
	key, err := o.key()
	if err != nil {
		return Page[models.DriveItem]{}, err
	}
	at, err := s.expireDue(ctx, integrationID)
	if err != nil {
		return Page[models.DriveItem]{}, err
	}
	w, err := f.where(integrationID, at)
	if err != nil {
		return Page[models.DriveItem]{}, err
	}
	if page.After != "" {
		cond, args, err := key.after(page.After)
		if err != nil {
			return Page[models.DriveItem]{}, err
		}
		w.add(cond, args...)
	}
	limit := page.limit()
	rows := make([]models.DriveItem, 0, limit+1)
	query := "SELECT " + itemColumns + " FROM drive_items i WHERE " + w.sql() + " ORDER BY " + key.orderBy() + " LIMIT " + strconv.Itoa(limit+1)
	if err := s.queryRows(ctx, query, w.args, scanItems(&rows)); err != nil {
		return Page[models.DriveItem]{}, fmt.Errorf("list drive items: %w", err)
	}
	return finishPage(rows, limit, func(it *models.DriveItem) string { return key.encode(o.value(it), it.ID) }), nil
}

// CountDriveItems counts an integration's drive items matching f.
func (s *Store) CountDriveItems(ctx context.Context, integrationID string, f ItemFilter) (int, error) {
	at, err := s.expireDue(ctx, integrationID)
	if err != nil {
		return 0, err
	}
	w, err := f.where(integrationID, at)
	if err != nil {
		return 0, err
	}
	var n int64
	err = s.queryRows(ctx, "SELECT count(*) FROM drive_items i WHERE "+w.sql(), w.args, func(r rows) error { return r.Scan(&n) })
	if err != nil {
		return 0, fmt.Errorf("count drive items: %w", err)
	}
	return int(n), nil
}

// ItemsByKey loads drive items by key; missing items are absent from the map.
func (s *Store) ItemsByKey(ctx context.Context, keys []RowKey) (map[RowKey]*models.DriveItem, error) {
	out := make(map[RowKey]*models.DriveItem, len(keys))
	for integrationID, ids := range groupKeys(keys) {
		for _, part := range chunks(ids, loadChunk) {
			in, args := s.inList("i.id", part)
			rows := make([]models.DriveItem, 0, len(part))
			err := s.queryRows(ctx, "SELECT "+itemColumns+" FROM drive_items i WHERE i.integration_id = ? AND "+in,
				append([]any{integrationID}, args...), scanItems(&rows))
			if err != nil {
				return nil, fmt.Errorf("load drive items: %w", err)
			}
			for i := range rows {
				out[RowKey{integrationID, rows[i].ID}] = &rows[i]
			}
		}
	}
	return out, nil
}

// PermissionsByItem loads the permissions of items by item key, in a stable order (own
// permissions first, then by id).
func (s *Store) PermissionsByItem(ctx context.Context, items []RowKey) (map[RowKey][]*models.Permission, error) {
	out := make(map[RowKey][]*models.Permission, len(items))
	for integrationID, ids := range groupKeys(items) {
		for _, part := range chunks(ids, loadChunk) {
			in, args := s.inList("p.item_id", part)
			rows := make([]models.Permission, 0, 2*len(part))
			err := s.queryRows(ctx, "SELECT "+permissionColumns+" FROM permissions p WHERE p.integration_id = ? AND "+in+
				" ORDER BY p.item_id, p.inherited, p.id", append([]any{integrationID}, args...), scanPermissions(&rows))
			if err != nil {
				return nil, fmt.Errorf("load permissions: %w", err)
			}
			for i := range rows {
				k := RowKey{integrationID, rows[i].ItemID}
				out[k] = append(out[k], &rows[i])
			}
		}
	}
	return out, nil
}

// PermissionKey names one permission row: inherited permissions repeat the ancestor's id on
// each item, so the item is part of the key.
type PermissionKey struct {
	IntegrationID string
	ItemID        string
	ID            string
}

// PermissionByKey loads one permission.
func (s *Store) PermissionByKey(ctx context.Context, k PermissionKey) (*models.Permission, error) {
	var p models.Permission
	err := s.rdb.WithContext(ctx).Where("integration_id = ? AND item_id = ? AND id = ?", k.IntegrationID, k.ItemID, k.ID).Take(&p).Error
	if err != nil {
		return nil, notFound(err, "load permission")
	}
	return &p, nil
}

// DriveItemStats counts items and shared items per drive.
type DriveItemStats struct {
	Items       int
	SharedItems int
}

// DriveItemStatsByDrive counts the items and shared items of drives (keys name drives).
func (s *Store) DriveItemStatsByDrive(ctx context.Context, drives []RowKey) (map[RowKey]DriveItemStats, error) {
	out := make(map[RowKey]DriveItemStats, len(drives))
	for integrationID, ids := range groupKeys(drives) {
		if _, err := s.expireDue(ctx, integrationID); err != nil {
			return nil, err
		}
		for _, part := range chunks(ids, loadChunk) {
			var rows []struct {
				DriveID string
				Items   int
			}
			err := s.rdb.WithContext(ctx).Table("drive_items").Select("drive_id, COUNT(*) AS items").
				Where("integration_id = ? AND drive_id IN ? AND is_root = false", integrationID, part).
				Group("drive_id").Scan(&rows).Error
			if err != nil {
				return nil, fmt.Errorf("count drive items: %w", err)
			}
			for _, r := range rows {
				k := RowKey{integrationID, r.DriveID}
				st := out[k]
				st.Items = r.Items
				out[k] = st
			}
			var shared []struct {
				DriveID string
				Items   int
			}
			err = s.rdb.WithContext(ctx).Table("drive_items AS i").Select("i.drive_id, COUNT(*) AS items").
				Where("i.integration_id = ? AND i.drive_id IN ? AND i.sharing_flags <> 0", integrationID, part).
				Group("i.drive_id").Scan(&shared).Error
			if err != nil {
				return nil, fmt.Errorf("count shared drive items: %w", err)
			}
			for _, r := range shared {
				k := RowKey{integrationID, r.DriveID}
				st := out[k]
				st.SharedItems = r.Items
				out[k] = st
			}
		}
	}
	return out, nil
}

// MatchingPermissions returns, for the given items, the permissions that make them match f: the
// ones stopSharingBulk removes. Without sharing conditions in f, every shared permission matches.
func (s *Store) MatchingPermissions(ctx context.Context, integrationID string, f ItemFilter, itemIDs []string) (map[string][]models.Permission, error) {
	p, _, err := f.permissionWhere(s.clock())
	if err != nil {
		return nil, err
	}
	out := map[string][]models.Permission{}
	for _, part := range chunks(itemIDs, loadChunk) {
		var rows []models.Permission
		args := append([]any{integrationID, part}, p.args...)
		err := s.rdb.WithContext(ctx).Table("permissions AS p").Select("p.*").
			Where("p.integration_id = ? AND p.item_id IN ? AND "+p.sql(), args...).
			Order("p.item_id, p.id").Find(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("load matching permissions: %w", err)
		}
		for _, r := range rows {
			out[r.ItemID] = append(out[r.ItemID], r)
		}
	}
	return out, nil
}

// StopSelection is what one bulk stop sharing takes: the first items with sharing that a
// filter matches, by name, and of each exactly the permissions that make it match (never
// "all of the item's": a filter on links must not remove grants).
type StopSelection struct {
	IntegrationID string
	// Filter is the filter as applied (SharedOnly set), for counting what it still matches.
	Filter   ItemFilter
	Items    []models.DriveItem
	Matching map[string][]models.Permission // by item id, as MatchingPermissions
}

// PermissionCount is the number of permissions selected.
func (sel *StopSelection) PermissionCount() int {
	n := 0
	for _, ps := range sel.Matching {
		n += len(ps)
	}
	return n
}

// SelectToStop returns the first limit items with sharing that f matches, by name, with the
// permissions that make each match.
func (s *Store) SelectToStop(ctx context.Context, integrationID string, f ItemFilter, limit int) (*StopSelection, error) {
	f.SharedOnly = true
	page, err := s.ListDriveItems(ctx, integrationID, f, ItemOrder{Field: ItemOrderName}, PageRequest{First: limit})
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(page.Rows))
	for i := range page.Rows {
		ids[i] = page.Rows[i].ID
	}
	matching, err := s.MatchingPermissions(ctx, integrationID, f, ids)
	if err != nil {
		return nil, err
	}
	return &StopSelection{IntegrationID: integrationID, Filter: f, Items: page.Rows, Matching: matching}, nil
}
