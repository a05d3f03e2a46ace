package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// migrations are applied in order; migration i brings the schema to version
// i+1. Never edit or reorder an applied migration: append a new one.
// Each runs in its own transaction together with the version bump.
var migrations = []func(ctx context.Context, tx *sql.Tx, d dialect) error{
	// 1: the tables.
	func(ctx context.Context, tx *sql.Tx, d dialect) error {
		return d.exec(ctx, tx, `
CREATE TABLE integrations (
	id text PRIMARY KEY,
	name text NOT NULL,
	tenant_id text NOT NULL,
	client_id text NOT NULL,
	secret_ciphertext {{bytes}},
	secret_key_id text NOT NULL DEFAULT '',
	secret_hint text NOT NULL DEFAULT '',
	status text NOT NULL DEFAULT 'ACTIVE',
	last_error text NOT NULL DEFAULT '',
	last_sync_at {{ts}},
	next_sync_at {{ts}},
	sync_interval_seconds integer NOT NULL DEFAULT 900,
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL
);

CREATE TABLE users (
	integration_id text NOT NULL,
	id text NOT NULL CHECK (id <> ''),
	display_name text NOT NULL DEFAULT '',
	user_principal_name text NOT NULL DEFAULT '',
	mail text NOT NULL DEFAULT '',
	user_type text NOT NULL DEFAULT '',
	account_enabled boolean NOT NULL DEFAULT false,
	job_title text NOT NULL DEFAULT '',
	department text NOT NULL DEFAULT '',
	created_date_time {{ts}},
	manager_id text NOT NULL DEFAULT '',
	license_sku_ids text NOT NULL DEFAULT '[]',
	has_drive boolean,
	synced_at {{ts}} NOT NULL,
	PRIMARY KEY (integration_id, id)
);

CREATE TABLE drives (
	integration_id text NOT NULL,
	id text NOT NULL CHECK (id <> ''),
	owner_user_id text NOT NULL DEFAULT '',
	name text NOT NULL DEFAULT '',
	drive_type text NOT NULL DEFAULT '',
	web_url text NOT NULL DEFAULT '',
	root_id text NOT NULL DEFAULT '',
	quota_total bigint NOT NULL DEFAULT 0,
	quota_used bigint NOT NULL DEFAULT 0,
	quota_remaining bigint NOT NULL DEFAULT 0,
	quota_deleted bigint NOT NULL DEFAULT 0,
	quota_state text NOT NULL DEFAULT '',
	synced_at {{ts}} NOT NULL,
	PRIMARY KEY (integration_id, id)
);
CREATE INDEX drives_owner ON drives (integration_id, owner_user_id);

CREATE TABLE drive_items (
	integration_id text NOT NULL,
	drive_id text NOT NULL CHECK (drive_id <> ''),
	id text NOT NULL CHECK (id <> ''),
	parent_id text NOT NULL DEFAULT '',
	name text NOT NULL DEFAULT '',
	path text NOT NULL DEFAULT '',
	is_root boolean NOT NULL DEFAULT false,
	is_folder boolean NOT NULL DEFAULT false,
	size bigint NOT NULL DEFAULT 0,
	mime_type text NOT NULL DEFAULT '',
	web_url text NOT NULL DEFAULT '',
	created_date_time {{ts}},
	last_modified_date_time {{ts}},
	created_by_id text NOT NULL DEFAULT '',
	created_by_name text NOT NULL DEFAULT '',
	created_by_email text NOT NULL DEFAULT '',
	last_modified_by_id text NOT NULL DEFAULT '',
	last_modified_by_name text NOT NULL DEFAULT '',
	last_modified_by_email text NOT NULL DEFAULT '',
	shared_scope text,
	has_own_permissions boolean NOT NULL DEFAULT false,
	seen_generation bigint NOT NULL DEFAULT 0,
	synced_at {{ts}} NOT NULL,
	PRIMARY KEY (integration_id, id)
);
CREATE INDEX drive_items_drive ON drive_items (integration_id, drive_id);
CREATE INDEX drive_items_parent ON drive_items (integration_id, parent_id);
CREATE INDEX drive_items_modified ON drive_items (integration_id, last_modified_date_time, id);

CREATE TABLE permissions (
	integration_id text NOT NULL,
	drive_id text NOT NULL DEFAULT '',
	item_id text NOT NULL CHECK (item_id <> ''),
	id text NOT NULL CHECK (id <> ''),
	roles text NOT NULL DEFAULT '',
	link_type text NOT NULL DEFAULT '',
	link_scope text,
	link_web_url text NOT NULL DEFAULT '',
	link_prevents_download boolean NOT NULL DEFAULT false,
	expires_at {{ts}},
	has_password boolean NOT NULL DEFAULT false,
	granted_to_id text NOT NULL DEFAULT '',
	granted_to_display_name text NOT NULL DEFAULT '',
	granted_to_email text NOT NULL DEFAULT '',
	granted_to_kind text NOT NULL DEFAULT '',
	granted_to_external boolean NOT NULL DEFAULT false,
	granted_to_identities text NOT NULL DEFAULT '[]',
	invitation_email text NOT NULL DEFAULT '',
	inherited boolean NOT NULL DEFAULT false,
	inherited_from_id text,
	synced_at {{ts}} NOT NULL,
	-- The key's prefix (integration_id, item_id) serves lookups by item.
	PRIMARY KEY (integration_id, item_id, id)
);
CREATE INDEX permissions_scope ON permissions (integration_id, link_scope);
CREATE INDEX permissions_drive ON permissions (integration_id, drive_id);

CREATE TABLE drive_sync_states (
	integration_id text NOT NULL,
	drive_id text NOT NULL,
	delta_link text,
	next_link text,
	round_full boolean NOT NULL DEFAULT false,
	generation bigint NOT NULL DEFAULT 0,
	items_seen bigint NOT NULL DEFAULT 0,
	last_synced_at {{ts}},
	last_error text NOT NULL DEFAULT '',
	PRIMARY KEY (integration_id, drive_id)
);

CREATE TABLE sync_runs (
	id text PRIMARY KEY,
	integration_id text NOT NULL,
	"full" boolean NOT NULL DEFAULT false,
	status text NOT NULL,
	phase text NOT NULL DEFAULT '',
	started_at {{ts}} NOT NULL,
	finished_at {{ts}},
	drives_total bigint NOT NULL DEFAULT 0,
	drives_done bigint NOT NULL DEFAULT 0,
	items_seen bigint NOT NULL DEFAULT 0,
	shared_items bigint NOT NULL DEFAULT 0,
	permissions_read bigint NOT NULL DEFAULT 0,
	requests bigint NOT NULL DEFAULT 0,
	resource_units bigint NOT NULL DEFAULT 0,
	throttled_waits bigint NOT NULL DEFAULT 0,
	eta_seconds bigint,
	error text NOT NULL DEFAULT ''
);
CREATE INDEX sync_runs_integration ON sync_runs (integration_id, started_at);

CREATE TABLE audit_events (
	id text PRIMARY KEY,
	integration_id text NOT NULL,
	at {{ts}} NOT NULL,
	actor_subject text NOT NULL DEFAULT '',
	actor_name text NOT NULL DEFAULT '',
	action text NOT NULL,
	drive_id text NOT NULL DEFAULT '',
	item_id text NOT NULL DEFAULT '',
	item_name text NOT NULL DEFAULT '',
	item_path text NOT NULL DEFAULT '',
	permission_id text NOT NULL DEFAULT '',
	link_type text NOT NULL DEFAULT '',
	link_scope text NOT NULL DEFAULT '',
	link_web_url text NOT NULL DEFAULT '',
	granted_to text NOT NULL DEFAULT '',
	result text NOT NULL DEFAULT '',
	message text NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_integration ON audit_events (integration_id, at);
`)
	},
	// 2: name search on drive items. On PostgreSQL a trigram index serves
	// ILIKE '%word%' when pg_trgm can be installed; otherwise (and on SQLite)
	// an index on lower(name) serves prefix and exact matches.
	func(ctx context.Context, tx *sql.Tx, d dialect) error {
		if d == dialectPostgres {
			ok, err := tryCreateExtension(ctx, tx, "pg_trgm")
			if err != nil {
				return err
			}
			if ok {
				return d.exec(ctx, tx, `CREATE INDEX drive_items_name_trgm ON drive_items USING gin (lower(name) gin_trgm_ops)`)
			}
		}
		return d.exec(ctx, tx, `CREATE INDEX drive_items_name ON drive_items (integration_id, lower(name))`)
	},
	// 3: drive_items.sharing_flags (see sharing_flags.go), backfilled from the permissions, and
	// partial indexes for the sharing filters in the default order. Their predicates are
	// written exactly as ItemFilter.where writes its conditions: both databases use a partial
	// index only when the query repeats its predicate. Anonymous links and external sharing
	// have their own index because they are the dashboard's lists and a small part of the
	// shared items.
	func(ctx context.Context, tx *sql.Tx, d dialect) error {
		return d.exec(ctx, tx, `
ALTER TABLE drive_items ADD COLUMN sharing_flags integer NOT NULL DEFAULT 0;
UPDATE drive_items SET sharing_flags = `+sharingFlagsOf()+`
WHERE EXISTS (SELECT 1 FROM permissions p WHERE p.integration_id = drive_items.integration_id AND p.item_id = drive_items.id AND `+sharedPermission+`);
CREATE INDEX drive_items_shared ON drive_items (integration_id, last_modified_date_time, id)
	WHERE is_root = false AND sharing_flags <> 0;
CREATE INDEX drive_items_anonymous ON drive_items (integration_id, last_modified_date_time, id)
	WHERE is_root = false AND sharing_flags <> 0 AND (sharing_flags & `+fmt.Sprint(flagAnonymous)+`) <> 0;
CREATE INDEX drive_items_external ON drive_items (integration_id, last_modified_date_time, id)
	WHERE is_root = false AND sharing_flags <> 0 AND (sharing_flags & `+fmt.Sprint(flagExternal)+`) <> 0;
`)
	},
	// 4: sharing_flags gains flagAnonymousEdit and flagAnonymousNoExpiry: recompute the flags
	// of the shared items (the only ones the new bits can be set on).
	func(ctx context.Context, tx *sql.Tx, d dialect) error {
		return d.exec(ctx, tx, `UPDATE drive_items SET sharing_flags = `+sharingFlagsOf()+` WHERE sharing_flags <> 0`)
	},
	// 5: cheaper index upkeep for the sync's writes (DESIGN.md, "Index upkeep").
	// (integration_id, drive_id, parent_id) replaces the drive and parent indexes: every
	// query by parent also names the drive, and a delta page's rows share their drive, so
	// the page's index entries land together instead of one random leaf per row.
	// On PostgreSQL the id columns compare bytewise (COLLATE "C"): the databases here
	// default to C.UTF-8, which PostgreSQL compares through strcoll, and C.UTF-8 orders
	// by code point, which for UTF-8 is byte order, so no ordering or cursor changes
	// (SQLite's BINARY collation is the same order). Changing the collation rebuilds the
	// indexes on those columns without rewriting the tables.
	func(ctx context.Context, tx *sql.Tx, d dialect) error {
		if err := d.exec(ctx, tx, `
DROP INDEX drive_items_drive;
DROP INDEX drive_items_parent;
CREATE INDEX drive_items_tree ON drive_items (integration_id, drive_id, parent_id);
`); err != nil {
			return err
		}
		if d != dialectPostgres {
			return nil
		}
		// The identifier columns: Graph ids, our ids, and the columns that hold them
		// elsewhere. Written here, not shared: an applied migration never changes.
		bytewise := []struct {
			table string
			cols  []string
		}{
			{"integrations", []string{"id"}},
			{"users", []string{"integration_id", "id", "manager_id"}},
			{"drives", []string{"integration_id", "id", "owner_user_id", "root_id"}},
			{"drive_items", []string{"integration_id", "drive_id", "id", "parent_id", "created_by_id", "last_modified_by_id"}},
			{"permissions", []string{"integration_id", "drive_id", "item_id", "id", "granted_to_id", "inherited_from_id"}},
			{"drive_sync_states", []string{"integration_id", "drive_id"}},
			{"sync_runs", []string{"id", "integration_id"}},
			{"audit_events", []string{"id", "integration_id", "drive_id", "item_id", "permission_id"}},
		}
		var script strings.Builder
		for _, t := range bytewise {
			clauses := make([]string, len(t.cols))
			for i, c := range t.cols {
				clauses[i] = fmt.Sprintf(`ALTER COLUMN %s TYPE text COLLATE "C"`, c)
			}
			fmt.Fprintf(&script, "ALTER TABLE %s %s;\n", t.table, strings.Join(clauses, ", "))
		}
		return d.exec(ctx, tx, script.String())
	},
	// 6: scheduled refreshes (syncer, "Scheduled refreshes"): when each drive last had its
	// full sweep and its permission-hierarchy roots re-read, and how many a run did.
	func(ctx context.Context, tx *sql.Tx, d dialect) error {
		return d.exec(ctx, tx, `
ALTER TABLE drive_sync_states ADD COLUMN swept_at {{ts}};
ALTER TABLE drive_sync_states ADD COLUMN roots_refreshed_at {{ts}};
ALTER TABLE sync_runs ADD COLUMN drives_swept bigint NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN roots_refreshed bigint NOT NULL DEFAULT 0;
`)
	},
	// 7: drives the sync could not read (locked, closed to the app), with why and since when;
	// when each user's drive was last looked up (users without a OneDrive are looked up again
	// later); how many drives a run skipped.
	func(ctx context.Context, tx *sql.Tx, d dialect) error {
		return d.exec(ctx, tx, `
ALTER TABLE drives ADD COLUMN access_state text NOT NULL DEFAULT '';
ALTER TABLE drives ADD COLUMN access_reason text NOT NULL DEFAULT '';
ALTER TABLE drives ADD COLUMN access_since {{ts}};
ALTER TABLE users ADD COLUMN drive_checked_at {{ts}};
ALTER TABLE sync_runs ADD COLUMN drives_skipped bigint NOT NULL DEFAULT 0;
`)
	},
	// 8: links in time (sharing_flags.go): the flags count live sharing only, next_expiry says
	// when an item's flags go stale and expired_links marks the items holding an expired link.
	// next_expiry starts as the earliest expiry of the item's own links, passed or not, so the
	// items whose links have expired are stale and the first read recomputes them as of its own
	// moment; the others are right as they are. Conditions and masks are written out: an applied
	// migration never changes.
	func(ctx context.Context, tx *sql.Tx, d dialect) error {
		return d.exec(ctx, tx, `
ALTER TABLE drive_items ADD COLUMN next_expiry {{ts}};
ALTER TABLE drive_items ADD COLUMN expired_links boolean NOT NULL DEFAULT false;
UPDATE drive_items SET next_expiry = (SELECT MIN(p.expires_at) FROM permissions p
	WHERE p.integration_id = drive_items.integration_id AND p.item_id = drive_items.id AND p.inherited = false
	AND (',' || p.roles || ',') NOT LIKE '%,owner,%' AND p.link_scope IS NOT NULL)
WHERE sharing_flags <> 0 AND (sharing_flags & 128) <> 0;
CREATE INDEX drive_items_next_expiry ON drive_items (integration_id, next_expiry) WHERE next_expiry IS NOT NULL;
CREATE INDEX drive_items_expired ON drive_items (integration_id, last_modified_date_time, id)
	WHERE is_root = false AND expired_links = true;
`)
	},
	// 9: SharePoint's permission kinds (docs/graph-behaviour.md): limited access and
	// existingAccess links are not sharing, and a grant to Everyone except external users is
	// organisation-wide. Recompute the flags of the shared items (only they can change).
	func(ctx context.Context, tx *sql.Tx, d dialect) error {
		return d.exec(ctx, tx, `UPDATE drive_items SET sharing_flags = `+sharingFlagsOf()+` WHERE sharing_flags <> 0`)
	},
	// 10: a cancel asked of a run that no River job carries (`overshare sync` in another
	// process) is recorded on the run, and the syncer that holds it stops when it sees it.
	func(ctx context.Context, tx *sql.Tx, d dialect) error {
		return d.exec(ctx, tx, `ALTER TABLE sync_runs ADD COLUMN cancel_requested_at {{ts}}`)
	},
	// 11: certificate credentials (issue 18): which credential an integration signs in with, the
	// PEM (certificate and private key) encrypted as the secret is, and the certificate's
	// thumbprint and end date for people. Existing integrations have secrets.
	func(ctx context.Context, tx *sql.Tx, d dialect) error {
		return d.exec(ctx, tx, `
ALTER TABLE integrations ADD COLUMN credential_type text NOT NULL DEFAULT 'SECRET';
ALTER TABLE integrations ADD COLUMN certificate_ciphertext {{bytes}};
ALTER TABLE integrations ADD COLUMN certificate_key_id text NOT NULL DEFAULT '';
ALTER TABLE integrations ADD COLUMN certificate_thumbprint text NOT NULL DEFAULT '';
ALTER TABLE integrations ADD COLUMN certificate_expires_at {{ts}};
`)
	},
	// 12: tenant facts from Graph (models.TenantFacts): the verified domains (or the guessed
	// ones) that decided who is external, and the licence names by SKU id. One row per
	// integration, written by each sync.
	func(ctx context.Context, tx *sql.Tx, d dialect) error {
		return d.exec(ctx, tx, `
CREATE TABLE tenant_facts (
	integration_id text PRIMARY KEY,
	domain_source text NOT NULL DEFAULT '',
	domains text NOT NULL DEFAULT '[]',
	skus_read boolean NOT NULL DEFAULT false,
	skus text NOT NULL DEFAULT '[]',
	synced_at {{ts}} NOT NULL
)`)
	},
	// 13: change notifications (package watch): one Graph subscription per drive root, its
	// clientState encrypted as secrets are, and whether a notification waits for its drive's
	// sync; how each integration learns of changes (notifications or polling) and why; which
	// runs a notification started.
	func(ctx context.Context, tx *sql.Tx, d dialect) error {
		return d.exec(ctx, tx, `
CREATE TABLE graph_subscriptions (
	id text PRIMARY KEY,
	integration_id text NOT NULL,
	drive_id text NOT NULL,
	client_state_ciphertext {{bytes}} NOT NULL,
	client_state_key_id text NOT NULL DEFAULT '',
	expires_at {{ts}} NOT NULL,
	created_at {{ts}} NOT NULL,
	renewed_at {{ts}} NOT NULL,
	notified_at {{ts}},
	pending_since {{ts}},
	notifications bigint NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX graph_subscriptions_drive ON graph_subscriptions (integration_id, drive_id);
ALTER TABLE integrations ADD COLUMN watch_mode text NOT NULL DEFAULT 'POLLING';
ALTER TABLE integrations ADD COLUMN watch_reason text NOT NULL DEFAULT 'Change notifications are set up after the next sync.';
ALTER TABLE sync_runs ADD COLUMN trigger_kind text NOT NULL DEFAULT '';
`)
	},
	// 14: each item's sharing history (history.go): one row per change of
	// an item's own sharing, and the intervals of exposure the changes open and close (at most
	// one open per item and level). Items shared before this version get their "first seen"
	// event from backfillHistory.
	func(ctx context.Context, tx *sql.Tx, d dialect) error {
		err := d.exec(ctx, tx, `
CREATE TABLE sharing_events (
	id {{serial}},
	integration_id text NOT NULL,
	drive_id text NOT NULL DEFAULT '',
	item_id text NOT NULL,
	item_name text NOT NULL DEFAULT '',
	item_path text NOT NULL DEFAULT '',
	kind text NOT NULL,
	permission_id text NOT NULL DEFAULT '',
	source text NOT NULL,
	actor_subject text NOT NULL DEFAULT '',
	actor_name text NOT NULL DEFAULT '',
	observed_at {{ts}} NOT NULL,
	item_modified_at {{ts}},
	item_modified_by text NOT NULL DEFAULT '',
	before text NOT NULL DEFAULT '[]',
	after text NOT NULL DEFAULT '[]',
	exposure_before integer NOT NULL DEFAULT 0,
	exposure_after integer NOT NULL DEFAULT 0
);
CREATE INDEX sharing_events_item ON sharing_events (integration_id, item_id, id);
CREATE INDEX sharing_events_feed ON sharing_events (integration_id, id);
CREATE INDEX sharing_events_observed ON sharing_events (observed_at);
CREATE TABLE exposure_intervals (
	id {{serial}},
	integration_id text NOT NULL,
	drive_id text NOT NULL DEFAULT '',
	item_id text NOT NULL,
	level text NOT NULL,
	started_at {{ts}} NOT NULL,
	ended_at {{ts}},
	from_first_seen boolean NOT NULL DEFAULT false
);
CREATE INDEX exposure_intervals_item ON exposure_intervals (integration_id, item_id, started_at);
CREATE UNIQUE INDEX exposure_intervals_open ON exposure_intervals (integration_id, item_id, level) WHERE ended_at IS NULL;
CREATE INDEX exposure_intervals_level ON exposure_intervals (integration_id, level, ended_at);
CREATE INDEX exposure_intervals_start ON exposure_intervals (integration_id, started_at);
`)
		if err != nil {
			return err
		}
		return backfillHistory(ctx, tx, d)
	},
}

// dialect switches the few types that differ between the databases.
type dialect string

const (
	dialectPostgres dialect = Postgres
	dialectSQLite   dialect = SQLite
)

func (d dialect) replacer() *strings.Replacer {
	if d == dialectPostgres {
		return strings.NewReplacer("{{ts}}", "timestamptz", "{{bytes}}", "bytea",
			"{{serial}}", "bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")
	}
	// glebarez/go-sqlite returns time.Time for columns declared datetime.
	return strings.NewReplacer("{{ts}}", "datetime", "{{bytes}}", "blob",
		"{{serial}}", "integer PRIMARY KEY AUTOINCREMENT")
}

// exec runs a script of statements separated by ";" at line ends.
func (d dialect) exec(ctx context.Context, tx *sql.Tx, script string) error {
	script = d.replacer().Replace(script)
	for _, stmt := range strings.Split(script, ";\n") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("%w\n%s", err, strings.TrimSpace(stmt))
		}
	}
	return nil
}

// tryCreateExtension installs a PostgreSQL extension when the server has it
// and the role may create it; a failure leaves the transaction usable.
func tryCreateExtension(ctx context.Context, tx *sql.Tx, name string) (bool, error) {
	var available bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = $1)`, name).Scan(&available); err != nil {
		return false, fmt.Errorf("look up extension %s: %w", name, err)
	}
	if !available {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, `SAVEPOINT create_extension`); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `CREATE EXTENSION IF NOT EXISTS `+name); err != nil {
		if _, rerr := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT create_extension`); rerr != nil {
			return false, rerr
		}
		return false, nil
	}
	_, err := tx.ExecContext(ctx, `RELEASE SAVEPOINT create_extension`)
	return err == nil, err
}

// migrateLockKey serialises migrations of concurrent starts on PostgreSQL.
const migrateLockKey = 0x6f76657273686172 // "overshar"

// migrateTo applies pending migrations up to version target, one
// transaction at a time, and returns the versions it applied.
func migrateTo(ctx context.Context, db *sql.DB, name string, target int) ([]int, error) {
	d := dialect(name)
	var applied []int
	for {
		v, done, err := migrateStep(ctx, db, d, target)
		if err != nil {
			return applied, err
		}
		if done {
			return applied, nil
		}
		applied = append(applied, v)
	}
}

// migrateStep applies the next pending migration, if any, in one transaction.
// On PostgreSQL the transaction first takes an advisory lock, so a
// concurrent start waits, then sees the new version and skips it.
func migrateStep(ctx context.Context, db *sql.DB, d dialect, target int) (version int, done bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, false, fmt.Errorf("migrate: begin: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if d == dialectPostgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrateLockKey)); err != nil {
			return 0, false, fmt.Errorf("migrate: lock: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)`); err != nil {
		return 0, false, fmt.Errorf("migrate: create schema_version: %w", err)
	}
	current, err := readVersion(ctx, tx)
	if errors.Is(err, sql.ErrNoRows) {
		current = 0
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (0)`); err != nil {
			return 0, false, fmt.Errorf("migrate: init schema_version: %w", err)
		}
	} else if err != nil {
		return 0, false, fmt.Errorf("migrate: read schema version: %w", err)
	}
	if current > len(migrations) {
		return 0, false, fmt.Errorf("migrate: the database schema is at version %d, newer than this build knows (%d); run a newer overshare", current, len(migrations))
	}
	if current >= target {
		return current, true, tx.Commit()
	}
	next := current + 1
	if err := migrations[current](ctx, tx, d); err != nil {
		return 0, false, fmt.Errorf("migrate to version %d: %w", next, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE schema_version SET version = `+fmt.Sprint(next)); err != nil {
		return 0, false, fmt.Errorf("migrate: record version %d: %w", next, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, false, fmt.Errorf("migrate to version %d: commit: %w", next, err)
	}
	return next, false, nil
}

type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func readVersion(ctx context.Context, q queryRower) (int, error) {
	var v int
	err := q.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&v)
	return v, err
}

func schemaVersion(ctx context.Context, db *sql.DB) (int, error) {
	v, err := readVersion(ctx, db)
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// backfillHistory gives every item shared before migration 14 its "first seen" event and open
// exposure intervals, as a first sync would have, so that its history replays to its sharing.
// It runs the store's own history code on the migration's transaction.
func backfillHistory(ctx context.Context, sqlTx *sql.Tx, d dialect) error {
	var dialector gorm.Dialector = sqlite.Dialector{Conn: sqlTx}
	if d == dialectPostgres {
		dialector = postgres.New(postgres.Config{Conn: sqlTx})
	}
	g, err := gorm.Open(dialector, &gorm.Config{Logger: logger.Discard, SkipDefaultTransaction: true})
	if err != nil {
		return fmt.Errorf("backfill history: %w", err)
	}
	t := &tx{db: g.WithContext(ctx), dialect: string(d), now: now()}
	var integrations []string
	if err := t.db.Raw(`SELECT DISTINCT integration_id FROM permissions`).Scan(&integrations).Error; err != nil {
		return fmt.Errorf("backfill history: %w", err)
	}
	for _, id := range integrations {
		found := newHistory(id, historyCause{})
		if err := found.read(t, "1 = 1"); err != nil {
			return err
		}
		h := newHistory(id, syncCause(true))
		h.meta = found.meta
		if err := h.finish(t, found.before, nil); err != nil {
			return fmt.Errorf("backfill history of integration %s: %w", id, err)
		}
	}
	return nil
}
