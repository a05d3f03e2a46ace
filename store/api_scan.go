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
	return ctxErr(ctx, s.queryRowsRaw(ctx, query, args, each))
}

func (s *Store) queryRowsRaw(ctx context.Context, query string, args []any, each func(rows) error) error {
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
	r, err := s.rsqlDB.QueryContext(ctx, query, args...)
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

// userColumns are users' columns (table alias u) in the order of userFields.
const userColumns = `u.integration_id, u.id, u.display_name, u.user_principal_name, u.mail, u.user_type,
u.account_enabled, u.job_title, u.department, u.created_date_time, u.manager_id, u.license_sku_ids, u.has_drive,
u.drive_checked_at, u.synced_at`

func userFields(u *models.User) []any {
	return []any{&u.IntegrationID, &u.ID, &u.DisplayName, &u.UserPrincipalName, &u.Mail, &u.UserType,
		&u.AccountEnabled, &u.JobTitle, &u.Department, &u.CreatedDateTime, &u.ManagerID, &u.LicenseSkuIDs, &u.HasDrive,
		&u.DriveCheckedAt, &u.SyncedAt}
}

// driveColumns are drives' columns (table alias d) in the order of driveFields.
const driveColumns = `d.integration_id, d.id, d.owner_user_id, d.name, d.drive_type, d.web_url, d.root_id,
d.quota_total, d.quota_used, d.quota_remaining, d.quota_deleted, d.quota_state, d.synced_at,
d.access_state, d.access_reason, d.access_since`

func driveFields(d *models.Drive) []any {
	return []any{&d.IntegrationID, &d.ID, &d.OwnerUserID, &d.Name, &d.DriveType, &d.WebURL, &d.RootID,
		&d.QuotaTotal, &d.QuotaUsed, &d.QuotaRemaining, &d.QuotaDeleted, &d.QuotaState, &d.SyncedAt,
		&d.Access, &d.AccessReason, &d.AccessSince}
}

// scanInto returns a row callback for queryRows that appends each row to *out: fields binds a
// row's fields as scan destinations. Each row is scanned into a zeroed row (so that pointer
// fields are allocated afresh, never shared between rows) and copied: one set of destinations
// serves the whole result.
func scanInto[T any](out *[]T, fields func(*T) []any) func(rows) error {
	var row T
	dest := fields(&row)
	return func(r rows) error {
		var zero T
		row = zero
		if err := r.Scan(dest...); err != nil {
			return err
		}
		*out = append(*out, row)
		return nil
	}
}

func scanItems(out *[]models.DriveItem) func(rows) error { return scanInto(out, itemFields) }

func scanPermissions(out *[]models.Permission) func(rows) error {
	return scanInto(out, permissionFields)
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
