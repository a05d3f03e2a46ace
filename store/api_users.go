package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/overshare/overshare/models"
)

// UserFilter selects directory users.
type UserFilter struct {
	// Search matches display name, user principal name or mail, case-insensitively, anywhere.
	Search         string
	Guest          *bool
	AccountEnabled *bool
	HasDrive       *bool
}

var userKey = sortKey{name: "displayName", expr: "lower(u.display_name)", idExpr: "u.id", kind: keyString}

func (f UserFilter) where(integrationID string) *where {
	w := &where{}
	w.add("u.integration_id = ?", integrationID)
	if f.Search != "" {
		w.addSearch(f.Search, "u.display_name", "u.user_principal_name", "u.mail")
	}
	if f.Guest != nil {
		if *f.Guest {
			w.add("u.user_type = ?", models.UserTypeGuest)
		} else {
			w.add("u.user_type <> ?", models.UserTypeGuest)
		}
	}
	if f.AccountEnabled != nil {
		w.add("u.account_enabled = ?", *f.AccountEnabled)
	}
	if f.HasDrive != nil {
		w.add("u.has_drive = ?", *f.HasDrive)
	}
	return w
}

// ListUsers returns one page of an integration's users matching f, by display name.
func (s *Store) ListUsers(ctx context.Context, integrationID string, f UserFilter, page PageRequest) (Page[models.User], error) {
	w := f.where(integrationID)
	if page.After != "" {
		cond, args, err := userKey.after(page.After)
		if err != nil {
			return Page[models.User]{}, err
		}
		w.add(cond, args...)
	}
	limit := page.limit()
	rows := make([]models.User, 0, limit+1)
	query := "SELECT " + userColumns + " FROM users u WHERE " + w.sql() + " ORDER BY " + userKey.orderBy() + " LIMIT " + strconv.Itoa(limit+1)
	if err := s.queryRows(ctx, query, w.args, scanInto(&rows, userFields)); err != nil {
		return Page[models.User]{}, fmt.Errorf("list users: %w", err)
	}
	return finishPage(rows, limit, func(u *models.User) string {
		return userKey.encode(strings.ToLower(u.DisplayName), u.ID)
	}), nil
}

// CountUsers counts an integration's users matching f.
func (s *Store) CountUsers(ctx context.Context, integrationID string, f UserFilter) (int, error) {
	w := f.where(integrationID)
	var n int64
	if err := s.rdb.WithContext(ctx).Table("users AS u").Where(w.sql(), w.args...).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return int(n), nil
}

// UsersByKey loads users by key; missing users are absent from the map.
func (s *Store) UsersByKey(ctx context.Context, keys []RowKey) (map[RowKey]*models.User, error) {
	out := make(map[RowKey]*models.User, len(keys))
	for integrationID, ids := range groupKeys(keys) {
		for _, part := range chunks(ids, loadChunk) {
			in, args := s.inList("u.id", part)
			rows := make([]models.User, 0, len(part))
			err := s.queryRows(ctx, "SELECT "+userColumns+" FROM users u WHERE u.integration_id = ? AND "+in,
				append([]any{integrationID}, args...), scanInto(&rows, userFields))
			if err != nil {
				return nil, fmt.Errorf("load users: %w", err)
			}
			for i := range rows {
				out[RowKey{integrationID, rows[i].ID}] = &rows[i]
			}
		}
	}
	return out, nil
}

// DriveFilter selects drives.
type DriveFilter struct {
	OwnerUserID string
	// QuotaStates: normal, nearing, critical, exceeded (any of them).
	QuotaStates []string
}

// Drives list by their owner's name: every OneDrive is called "OneDrive", so the drive's own
// name orders nothing. A drive whose owner is not synced (or has none) sorts by its own name.
var driveKey = sortKey{name: "owner", expr: "lower(COALESCE(u.display_name, d.name))", idExpr: "d.id", kind: keyString}

const driveOwnerJoin = " LEFT JOIN users u ON u.integration_id = d.integration_id AND u.id = d.owner_user_id"

func (f DriveFilter) where(integrationID string) *where {
	w := &where{}
	w.add("d.integration_id = ?", integrationID)
	if f.OwnerUserID != "" {
		w.add("d.owner_user_id = ?", f.OwnerUserID)
	}
	if len(f.QuotaStates) > 0 {
		args := make([]any, len(f.QuotaStates))
		for i, st := range f.QuotaStates {
			args[i] = st
		}
		w.add("d.quota_state IN ("+placeholders(len(args))+")", args...)
	}
	return w
}

// ListDrives returns one page of an integration's drives matching f, by owner name.
func (s *Store) ListDrives(ctx context.Context, integrationID string, f DriveFilter, page PageRequest) (Page[models.Drive], error) {
	w := f.where(integrationID)
	if page.After != "" {
		cond, args, err := driveKey.after(page.After)
		if err != nil {
			return Page[models.Drive]{}, err
		}
		w.add(cond, args...)
	}
	limit := page.limit()
	out := make([]models.Drive, 0, limit+1)
	// The cursor carries the key as the database computed it (lower() differs between
	// PostgreSQL and SQLite outside ASCII).
	keys := make(map[string]string, limit+1)
	query := "SELECT " + driveColumns + ", " + driveKey.expr + " FROM drives d" + driveOwnerJoin + " WHERE " + w.sql() +
		" ORDER BY " + driveKey.orderBy() + " LIMIT " + strconv.Itoa(limit+1)
	var d models.Drive
	var key string
	dest := append(driveFields(&d), &key)
	err := s.queryRows(ctx, query, w.args, func(r rows) error {
		d, key = models.Drive{}, ""
		if err := r.Scan(dest...); err != nil {
			return err
		}
		out = append(out, d)
		keys[d.ID] = key
		return nil
	})
	if err != nil {
		return Page[models.Drive]{}, fmt.Errorf("list drives: %w", err)
	}
	return finishPage(out, limit, func(d *models.Drive) string { return driveKey.encode(keys[d.ID], d.ID) }), nil
}

// CountDrives counts an integration's drives matching f.
func (s *Store) CountDrives(ctx context.Context, integrationID string, f DriveFilter) (int, error) {
	w := f.where(integrationID)
	var n int64
	if err := s.rdb.WithContext(ctx).Table("drives AS d").Where(w.sql(), w.args...).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count drives: %w", err)
	}
	return int(n), nil
}

// DrivesByKey loads drives by key; missing drives are absent from the map.
func (s *Store) DrivesByKey(ctx context.Context, keys []RowKey) (map[RowKey]*models.Drive, error) {
	out := make(map[RowKey]*models.Drive, len(keys))
	for integrationID, ids := range groupKeys(keys) {
		for _, part := range chunks(ids, loadChunk) {
			in, args := s.inList("d.id", part)
			rows := make([]models.Drive, 0, len(part))
			err := s.queryRows(ctx, "SELECT "+driveColumns+" FROM drives d WHERE d.integration_id = ? AND "+in,
				append([]any{integrationID}, args...), scanInto(&rows, driveFields))
			if err != nil {
				return nil, fmt.Errorf("load drives: %w", err)
			}
			for i := range rows {
				out[RowKey{integrationID, rows[i].ID}] = &rows[i]
			}
		}
	}
	return out, nil
}

// DrivesByOwner loads the drive of each user (users are keys); users without a drive are
// absent from the map. A user owns at most one OneDrive; should there be several, the first by
// id wins.
func (s *Store) DrivesByOwner(ctx context.Context, users []RowKey) (map[RowKey]*models.Drive, error) {
	out := make(map[RowKey]*models.Drive, len(users))
	for integrationID, ids := range groupKeys(users) {
		for _, part := range chunks(ids, loadChunk) {
			in, args := s.inList("d.owner_user_id", part)
			rows := make([]models.Drive, 0, len(part))
			err := s.queryRows(ctx, "SELECT "+driveColumns+" FROM drives d WHERE d.integration_id = ? AND "+in+" ORDER BY d.id",
				append([]any{integrationID}, args...), scanInto(&rows, driveFields))
			if err != nil {
				return nil, fmt.Errorf("load drives by owner: %w", err)
			}
			for i := range rows {
				k := RowKey{integrationID, rows[i].OwnerUserID}
				if out[k] == nil {
					out[k] = &rows[i]
				}
			}
		}
	}
	return out, nil
}
