package store

import (
	"context"
	"strconv"
	"strings"

	"github.com/overshare/overshare/models"
)

// The API's hot reads (a page of items, their permissions) name their columns and scan them
// straight into the row's fields: gorm's reflection-driven mapping cost more than the query
// itself. On PostgreSQL they go to pgx directly, whose binary protocol decodes into the fields
// without database/sql's value conversions; on SQLite through database/sql. Both run the same
// SQL (with "?" placeholders) and the same column lists.

// rows is what pgx.Rows and *sql.Rows share.
type rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// queryRows runs query and calls each for every row.
func (s *Store) queryRows(ctx context.Context, query string, args []any, each func(rows) error) error {
	if s.pool != nil {
		r, err := s.pool.Query(ctx, numberPlaceholders(query), args...)
		if err != nil {
			return err
		}
		defer r.Close()
		for r.Next() {
			if err := each(r); err != nil {
				return err
			}
		}
		return r.Err()
	}
	r, err := s.sqlDB.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer r.Close()
	for r.Next() {
		if err := each(r); err != nil {
			return err
		}
	}
	if err := r.Err(); err != nil {
		return err
	}
	return r.Close()
}

// numberPlaceholders turns the "?" placeholders of query into PostgreSQL's $1, $2, …, leaving
// quoted literals alone.
func numberPlaceholders(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 16)
	n, quoted := 0, false
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'':
			quoted = !quoted
		case c == '?' && !quoted:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// inList returns "expr IN (…)" for ids with its arguments: one array argument on PostgreSQL
// (one statement text whatever the number of ids), one placeholder per id on SQLite (callers
// keep to loadChunk ids).
func (s *Store) inList(expr string, ids []string) (string, []any) {
	if s.pool != nil {
		return expr + " = ANY(?)", []any{ids}
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return expr + " IN (" + placeholders(len(ids)) + ")", args
}

// itemColumns are drive_items' columns (table alias i) in the order of itemFields.
const itemColumns = `i.integration_id, i.drive_id, i.id, i.parent_id, i.name, i.path, i.is_root, i.is_folder,
i.size, i.mime_type, i.web_url, i.created_date_time, i.last_modified_date_time, i.created_by_id, i.created_by_name,
i.created_by_email, i.last_modified_by_id, i.last_modified_by_name, i.last_modified_by_email, i.shared_scope,
i.has_own_permissions, i.sharing_flags, i.seen_generation, i.synced_at`

func itemFields(it *models.DriveItem) []any {
	return []any{&it.IntegrationID, &it.DriveID, &it.ID, &it.ParentID, &it.Name, &it.Path, &it.IsRoot, &it.IsFolder,
		&it.Size, &it.MimeType, &it.WebURL, &it.CreatedDateTime, &it.LastModifiedDateTime, &it.CreatedByID, &it.CreatedByName,
		&it.CreatedByEmail, &it.LastModifiedByID, &it.LastModifiedByName, &it.LastModifiedByEmail, &it.SharedScope,
		&it.HasOwnPermissions, &it.SharingFlags, &it.SeenGeneration, &it.SyncedAt}
}

// permissionColumns are permissions' columns (table alias p) in the order of permissionFields.
const permissionColumns = `p.integration_id, p.drive_id, p.item_id, p.id, p.roles, p.link_type, p.link_scope,
p.link_web_url, p.link_prevents_download, p.expires_at, p.has_password, p.granted_to_id, p.granted_to_display_name,
p.granted_to_email, p.granted_to_kind, p.granted_to_external, p.granted_to_identities, p.invitation_email,
p.inherited, p.inherited_from_id, p.synced_at`

func permissionFields(p *models.Permission) []any {
	return []any{&p.IntegrationID, &p.DriveID, &p.ItemID, &p.ID, &p.Roles, &p.LinkType, &p.LinkScope,
		&p.LinkWebURL, &p.LinkPreventsDownload, &p.ExpiresAt, &p.HasPassword, &p.GrantedToID, &p.GrantedToDisplayName,
		&p.GrantedToEmail, &p.GrantedToKind, &p.GrantedToExternal, identitiesField{&p.GrantedToIdentities}, &p.InvitationEmail,
		&p.Inherited, &p.InheritedFromID, &p.SyncedAt}
}

// scanItems appends every row to *out. Each row is scanned into a zeroed row (so that pointer
// fields are allocated afresh, never shared between rows) and copied: one set of destinations
// serves the whole result.
func scanItems(out *[]models.DriveItem) func(rows) error {
	var it models.DriveItem
	dest := itemFields(&it)
	return func(r rows) error {
		it = models.DriveItem{}
		if err := r.Scan(dest...); err != nil {
			return err
		}
		*out = append(*out, it)
		return nil
	}
}

func scanPermissions(out *[]models.Permission) func(rows) error {
	var p models.Permission
	dest := permissionFields(&p)
	return func(r rows) error {
		p = models.Permission{}
		if err := r.Scan(dest...); err != nil {
			return err
		}
		*out = append(*out, p)
		return nil
	}
}

// identitiesField scans granted_to_identities, sparing the JSON decoder the usual "[]" (every
// permission but specific-people links).
type identitiesField struct{ p *models.Identities }

func (f identitiesField) Scan(src any) error {
	if s, ok := src.(string); ok && s == "[]" {
		*f.p = models.Identities{}
		return nil
	}
	if b, ok := src.([]byte); ok && string(b) == "[]" {
		*f.p = models.Identities{}
		return nil
	}
	return f.p.Scan(src)
}
