package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm/clause"

	"github.com/overshare/overshare/models"
)

// bulkMethod selects how drive_items and permissions are upserted on
// PostgreSQL. SQLite always uses gorm's batch upsert.
type bulkMethod int

const (
	// bulkCopy is PostgreSQL's native path (the default): rows reach the
	// server in one piece, by COPY or as arrays (see nativeMethod), and one
	// INSERT … SELECT … ON CONFLICT … DO UPDATE … WHERE (…) IS DISTINCT FROM
	// (…) merges them.
	bulkCopy bulkMethod = iota
	bulkGorm            // gorm CreateInBatches + ON CONFLICT, as on SQLite
)

// nativeMethod picks how bulkCopy ships rows. BenchmarkUpsertItems measures
// them: unnest of one array per column costs one round trip and no staging
// table, which wins for delta-page sized batches; COPY into a staging table
// wins for large ones.
type nativeMethod int

const (
	nativeAuto   nativeMethod = iota // unnest up to copyThreshold rows, COPY above
	nativeCopy                       // always COPY → staging table
	nativeUnnest                     // always unnest(arrays)
)

// copyThreshold is the batch size from which COPY beats unnest.
const copyThreshold = 5000

func (t *tx) useCopy(n int) bool {
	switch t.native {
	case nativeCopy:
		return true
	case nativeUnnest:
		return false
	}
	return n >= copyThreshold
}

// table describes an upserted table: its columns in COPY order, its key and
// the columns an upsert leaves alone on rows that already exist.
type table struct {
	name     string
	cols     []string
	key      []string
	noUpdate []string // besides the key
}

var itemsTable = table{
	name: "drive_items",
	cols: []string{"integration_id", "drive_id", "id", "parent_id", "name", "path", "is_root", "is_folder",
		"size", "mime_type", "web_url", "created_date_time", "last_modified_date_time",
		"created_by_id", "created_by_name", "created_by_email",
		"last_modified_by_id", "last_modified_by_name", "last_modified_by_email",
		"shared_scope", "has_own_permissions", "sharing_flags", "seen_generation", "synced_at"},
	key: []string{"integration_id", "id"},
	// path is maintained by recomputePathsTx, has_own_permissions and
	// sharing_flags by the permission writes (refreshPermissionState):
	// delta knows neither. A new row takes them as given (see
	// sharingStateOf).
	noUpdate: []string{"path", "has_own_permissions", "sharing_flags"},
}

func itemValues(it *models.DriveItem) []any {
	return []any{it.IntegrationID, it.DriveID, it.ID, it.ParentID, it.Name, it.Path, it.IsRoot, it.IsFolder,
		it.Size, it.MimeType, it.WebURL, it.CreatedDateTime, it.LastModifiedDateTime,
		it.CreatedByID, it.CreatedByName, it.CreatedByEmail,
		it.LastModifiedByID, it.LastModifiedByName, it.LastModifiedByEmail,
		it.SharedScope, it.HasOwnPermissions, int64(it.SharingFlags), it.SeenGeneration, it.SyncedAt}
}

var permissionsTable = table{
	name: "permissions",
	cols: []string{"integration_id", "drive_id", "item_id", "id", "roles", "link_type", "link_scope",
		"link_web_url", "link_prevents_download", "expires_at", "has_password",
		"granted_to_id", "granted_to_display_name", "granted_to_email", "granted_to_kind",
		"granted_to_external", "granted_to_identities", "invitation_email", "inherited",
		"inherited_from_id", "synced_at"},
	key: []string{"integration_id", "item_id", "id"},
}

func permissionValues(p *models.Permission) []any {
	return []any{p.IntegrationID, p.DriveID, p.ItemID, p.ID, p.Roles, p.LinkType, p.LinkScope,
		p.LinkWebURL, p.LinkPreventsDownload, p.ExpiresAt, p.HasPassword,
		p.GrantedToID, p.GrantedToDisplayName, p.GrantedToEmail, p.GrantedToKind,
		p.GrantedToExternal, p.GrantedToIdentities, p.InvitationEmail, p.Inherited,
		p.InheritedFromID, p.SyncedAt}
}

// updated returns the columns an upsert overwrites on an existing row.
func (tb table) updated() []string {
	skip := map[string]bool{}
	for _, c := range append(append([]string{}, tb.key...), tb.noUpdate...) {
		skip[c] = true
	}
	var out []string
	for _, c := range tb.cols {
		if !skip[c] {
			out = append(out, c)
		}
	}
	return out
}

// changeGuard is the DO UPDATE's WHERE: rewrite a row only when a column
// other than synced_at differs. Unchanged rows then cost no new row version
// (no dead tuples, no WAL); synced_at therefore means "last changed".
func (tb table) changeGuard(d string) string {
	var cur, exc []string
	for _, c := range tb.updated() {
		if c == "synced_at" {
			continue
		}
		cur = append(cur, fmt.Sprintf("%q.%q", tb.name, c))
		exc = append(exc, fmt.Sprintf("excluded.%q", c))
	}
	op := "IS DISTINCT FROM"
	if d == SQLite {
		op = "IS NOT" // SQLite's row-value spelling of the same test
	}
	return "(" + strings.Join(cur, ", ") + ") " + op + " (" + strings.Join(exc, ", ") + ")"
}

func (tb table) onConflict(d string) clause.OnConflict {
	cols := make([]clause.Column, len(tb.key))
	for i, k := range tb.key {
		cols[i] = clause.Column{Name: k}
	}
	return clause.OnConflict{
		Columns:   cols,
		DoUpdates: clause.AssignmentColumns(tb.updated()),
		Where:     clause.Where{Exprs: []clause.Expression{clause.Expr{SQL: tb.changeGuard(d)}}},
	}
}

// batchRows is the number of rows per INSERT of gorm's batch upsert. On
// PostgreSQL it keeps the bind parameters under the limit (65535). On SQLite
// the driver matches each parameter to its argument by a linear scan, so a
// statement costs O(parameters²): small statements are much faster there.
func (tb table) batchRows(dialect string) int {
	if dialect == SQLite {
		return max(1, sqliteBatchParams/len(tb.cols))
	}
	return min(1000, 60000/len(tb.cols))
}

const sqliteBatchParams = 500

// gormUpsert writes rows (a slice of models) with gorm's batch upsert.
func gormUpsert[T any](t *tx, tb table, rows []T) error {
	if len(rows) == 0 {
		return nil
	}
	if err := t.db.Clauses(tb.onConflict(t.dialect)).CreateInBatches(rows, tb.batchRows(t.dialect)).Error; err != nil {
		return fmt.Errorf("upsert %s: %w", tb.name, err)
	}
	return nil
}

// stage COPYs rows into a per-connection temporary table shaped like tb and
// returns its name. The table is emptied at commit, so it is created once
// per connection rather than once per transaction.
func stage(ctx context.Context, t *tx, tb table, n int, row func(i int) []any) (string, error) {
	name := "stage_" + tb.name
	if err := t.db.Exec(fmt.Sprintf(`CREATE TEMP TABLE IF NOT EXISTS %s (LIKE %s INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`, name, tb.name)).Error; err != nil {
		return "", fmt.Errorf("create staging table for %s: %w", tb.name, err)
	}
	// A second batch in the same transaction must not see the first. (DELETE,
	// not TRUNCATE: TRUNCATE creates a new file for the table every time.)
	if err := t.db.Exec(`DELETE FROM ` + name).Error; err != nil {
		return "", fmt.Errorf("empty staging table for %s: %w", tb.name, err)
	}
	// COPY runs on the connection that holds the transaction, so it is part of it.
	err := t.conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		_, err := pc.CopyFrom(ctx, pgx.Identifier{name}, tb.cols, pgx.CopyFromSlice(n, func(i int) ([]any, error) {
			return row(i), nil
		}))
		return err
	})
	if err != nil {
		return "", fmt.Errorf("copy %s: %w", tb.name, err)
	}
	return name, nil
}

// copyUpsert writes n rows with one INSERT … SELECT … ON CONFLICT … DO
// UPDATE … WHERE changed, from a staging table filled by COPY or from
// unnest(arrays), whichever suits n.
func copyUpsert(ctx context.Context, t *tx, tb table, n int, row func(i int) []any) error {
	if n == 0 {
		return nil
	}
	if !t.useCopy(n) {
		return unnestUpsert(ctx, t, tb, n, row)
	}
	name, err := stage(ctx, t, tb, n, row)
	if err != nil {
		return err
	}
	return mergeStaged(t, tb, name)
}

func mergeStaged(t *tx, tb table, staging string) error {
	cols := quoteAll(tb.cols)
	if err := t.db.Exec(mergeSQL(tb, "SELECT "+cols+" FROM "+staging)).Error; err != nil {
		return fmt.Errorf("upsert %s: %w", tb.name, err)
	}
	return nil
}

// mergeSQL is INSERT … <source> ON CONFLICT … DO UPDATE … WHERE changed.
func mergeSQL(tb table, source string) string {
	var set []string
	for _, c := range tb.updated() {
		set = append(set, fmt.Sprintf("%q = excluded.%q", c, c))
	}
	return fmt.Sprintf(`INSERT INTO %s (%s) %s ON CONFLICT (%s) DO UPDATE SET %s WHERE %s`,
		tb.name, quoteAll(tb.cols), source, quoteAll(tb.key), strings.Join(set, ", "), tb.changeGuard(Postgres))
}

// unnestUpsert sends the n rows as one array per column:
// INSERT … SELECT * FROM unnest($1::text[], $2::bool[], …) ON CONFLICT ….
func unnestUpsert(ctx context.Context, t *tx, tb table, n int, row func(i int) []any) error {
	arrays, types, err := columnArrays(tb, n, row)
	if err != nil {
		return err
	}
	params := make([]string, len(types))
	for i, typ := range types {
		params[i] = fmt.Sprintf("$%d::%s[]", i+1, typ)
	}
	q := mergeSQL(tb, "SELECT * FROM unnest("+strings.Join(params, ", ")+")")
	// database/sql hands the slices to pgx, which sends them as arrays.
	if _, err := t.db.Statement.ConnPool.(*sql.Tx).ExecContext(ctx, q, arrays...); err != nil {
		return fmt.Errorf("upsert %s: %w", tb.name, err)
	}
	return nil
}

// columnArrays turns rows into one typed slice per column, with the
// PostgreSQL array element type of each.
func columnArrays(tb table, n int, row func(i int) []any) ([]any, []string, error) {
	first := row(0)
	types := make([]string, len(first))
	arrays := make([]any, len(first))
	for j, v := range first {
		switch v.(type) {
		case bool:
			types[j], arrays[j] = "bool", make([]bool, n)
		case int64:
			types[j], arrays[j] = "int8", make([]int64, n)
		// Plain strings and times travel as []string and []time.Time, which pgx
		// encodes without reflection; pointer slices (the nullable columns) go
		// through reflection element by element.
		case time.Time:
			types[j], arrays[j] = "timestamptz", make([]time.Time, n)
		case *time.Time:
			types[j], arrays[j] = "timestamptz", make([]*time.Time, n)
		case string:
			types[j], arrays[j] = "text", make([]string, n)
		case *string, driver.Valuer:
			types[j], arrays[j] = "text", make([]*string, n)
		default:
			return nil, nil, fmt.Errorf("upsert %s: column %s has unsupported type %T", tb.name, tb.cols[j], v)
		}
	}
	for i := range n {
		vals := first
		if i > 0 {
			vals = row(i)
		}
		for j, v := range vals {
			switch a := arrays[j].(type) {
			case []bool:
				a[i] = v.(bool)
			case []int64:
				a[i] = v.(int64)
			case []time.Time:
				a[i] = v.(time.Time)
			case []*time.Time:
				a[i] = v.(*time.Time)
			case []string:
				a[i] = v.(string)
			case []*string:
				switch x := v.(type) {
				case *string:
					a[i] = x
				case driver.Valuer:
					dv, err := x.Value()
					if err != nil {
						return nil, nil, fmt.Errorf("upsert %s: column %s: %w", tb.name, tb.cols[j], err)
					}
					if s, ok := dv.(string); ok {
						a[i] = &s
					}
				}
			}
		}
	}
	return arrays, types, nil
}

func quoteAll(cols []string) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = fmt.Sprintf("%q", c)
	}
	return strings.Join(q, ", ")
}

// insertArrays inserts n rows on PostgreSQL as one array per column in one statement:
// INSERT … SELECT * FROM unnest($1::text[], …), followed by onConflict ("" for none).
func insertArrays(t *tx, tb table, n int, onConflict string, row func(i int) []any) error {
	if n == 0 {
		return nil
	}
	arrays, types, err := columnArrays(tb, n, row)
	if err != nil {
		return err
	}
	params := make([]string, len(types))
	for i, typ := range types {
		params[i] = fmt.Sprintf("$%d::%s[]", i+1, typ)
	}
	q := fmt.Sprintf("INSERT INTO %s (%s) SELECT * FROM unnest(%s) %s", tb.name, quoteAll(tb.cols), strings.Join(params, ", "), onConflict)
	if _, err := t.db.Statement.ConnPool.(*sql.Tx).ExecContext(t.db.Statement.Context, q, arrays...); err != nil {
		return fmt.Errorf("insert %s: %w", tb.name, err)
	}
	return nil
}
