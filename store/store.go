// Package store owns every query and write of Overshare. It is the only
// package that builds SQL. It runs on PostgreSQL (production) and on an
// embedded SQLite file (the default), with the same behaviour on both.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	gormlogger "gorm.io/gorm/logger"
)

// Dialects.
const (
	Postgres = "postgres"
	SQLite   = "sqlite"
)

// Config says where the database lives and where the secret key comes from.
type Config struct {
	// DatabaseURL is a postgres:// URL; empty means SQLite in DataDir.
	DatabaseURL string
	// DataDir holds the SQLite file and the secret key file (default ./data).
	DataDir string
	// SecretKey is 32 bytes written as base64 or hex (OVERSHARE_SECRET_KEY).
	// Empty means a key file in DataDir, created on first use.
	SecretKey string
	Logger    *slog.Logger
	// Clock tells the time links expire against (default time.Now); tests move it instead
	// of waiting.
	Clock func() time.Time
	// MustExist refuses, with ErrNoDatabase, a database that holds no Overshare schema yet
	// instead of creating one: on SQLite a data directory or database file that does not
	// exist (nothing is created on disk), on PostgreSQL a database without Overshare's tables.
	// An existing schema is still brought up to date.
	MustExist bool
}

// ErrNoDatabase is Open's answer, with MustExist, when there is no Overshare database yet.
var ErrNoDatabase = errors.New("no Overshare database")

// SQLitePath is the database file of the SQLite database in dataDir.
func SQLitePath(dataDir string) string {
	if dataDir == "" {
		dataDir = "./data"
	}
	return filepath.Join(dataDir, "overshare.db")
}

// Describe names the database cfg selects without any secret: "SQLite <absolute file path>"
// or "PostgreSQL postgres://user@host:port/database" (no password, no parameters, for
// URLs and key=value strings alike).
func Describe(cfg Config) string {
	if cfg.DatabaseURL == "" {
		path := SQLitePath(cfg.DataDir)
		if abs, err := filepath.Abs(path); err == nil {
			path = abs
		}
		return "SQLite " + path
	}
	pc, err := pgx.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		return "PostgreSQL (the URL in OVERSHARE_DATABASE_URL does not parse)"
	}
	u := url.URL{Scheme: "postgres", User: url.User(pc.User), Host: net.JoinHostPort(pc.Host, strconv.Itoa(int(pc.Port))), Path: "/" + pc.Database}
	if strings.HasPrefix(pc.Host, "/") { // a Unix socket directory
		u.Host = ""
		u.RawQuery = url.Values{"host": {pc.Host}}.Encode()
	}
	return "PostgreSQL " + u.String()
}

// Store is the database handle. It is safe for concurrent use.
type Store struct {
	db    *gorm.DB
	sqlDB *sql.DB
	// rdb and rsqlDB serve the API's reads. On PostgreSQL they are db and
	// sqlDB; on SQLite a separate pool of read-only connections, so a slow
	// dashboard query does not hold the one writing connection (and River,
	// the sync and every other request) until it ends: in WAL mode readers
	// and the writer do not block each other.
	rdb     *gorm.DB
	rsqlDB  *sql.DB
	pool    *pgxpool.Pool // nil on SQLite
	dialect string
	log     *slog.Logger
	keys    *keyring
	applied []int

	// bulk and native select the PostgreSQL bulk upsert method; see bulk.go.
	bulk   bulkMethod
	native nativeMethod
	// clock is Config.Clock, returning times as stored (see now).
	clock func() time.Time
	// lockDir holds the files of SQLite's sync locks (locks.go); empty on PostgreSQL.
	lockDir string
	// onSharing is OnSharingChange's function (history.go).
	onSharing atomic.Pointer[func(integrationID string)]
}

// Open connects to the database and applies pending migrations.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	return open(ctx, cfg, len(migrations))
}

// open is Open with the schema brought to version schema (tests of upgrades
// open at an older one).
func open(ctx context.Context, cfg Config, schema int) (*Store, error) {
	if cfg.DataDir == "" {
		cfg.DataDir = "./data"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	keys, err := newKeyring(cfg.SecretKey, filepath.Join(cfg.DataDir, "secret.key"))
	if err != nil {
		return nil, err
	}
	s := &Store{log: cfg.Logger, keys: keys, bulk: bulkCopy, clock: now}
	if cfg.Clock != nil {
		s.clock = func() time.Time { return utc(cfg.Clock()) }
	}
	gcfg := &gorm.Config{
		// Writes that need a transaction open one explicitly.
		SkipDefaultTransaction: true,
		NowFunc:                now,
		Logger: gormlogger.NewSlogLogger(cfg.Logger, gormlogger.Config{
			SlowThreshold:             5 * time.Second,
			IgnoreRecordNotFoundError: true,
			// Never print bound values: they may hold ciphertext or personal data.
			ParameterizedQueries: true,
			LogLevel:             gormlogger.Silent,
		}),
	}
	if cfg.DatabaseURL != "" {
		if err := s.openPostgres(ctx, cfg.DatabaseURL, gcfg); err != nil {
			return nil, err
		}
	} else {
		if cfg.MustExist {
			if err := sqliteExists(cfg.DataDir); err != nil {
				return nil, err
			}
		}
		if err := s.openSQLite(cfg.DataDir, gcfg); err != nil {
			return nil, err
		}
	}
	if cfg.MustExist {
		if err := s.hasSchema(ctx, cfg); err != nil {
			s.Close()
			return nil, err
		}
	}
	dbs := []*gorm.DB{s.db}
	if s.rdb != s.db {
		dbs = append(dbs, s.rdb) // SQLite's read-only pool
	}
	for _, db := range dbs {
		if err := translateCancellation(db); err != nil {
			s.Close()
			return nil, err
		}
	}
	applied, err := migrateTo(ctx, s.sqlDB, s.dialect, schema)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.applied = applied
	for _, v := range applied {
		s.log.Info("applied database migration", "version", v, "dialect", s.dialect)
	}
	return s, nil
}

func (s *Store) openPostgres(ctx context.Context, dsn string, gcfg *gorm.Config) error {
	pcfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return fmt.Errorf("parse OVERSHARE_DATABASE_URL: %w", redactURLError(err))
	}
	// pgx prepares and caches statements per connection. After five runs
	// PostgreSQL may switch a prepared statement to a generic plan chosen
	// from the statistics of that moment: on a first sync the tables start
	// empty, the generic plan is a sequential scan, and it stays one while
	// the table grows (quadratic time). Custom plans see the current size.
	if _, ok := pcfg.ConnConfig.RuntimeParams["plan_cache_mode"]; !ok {
		pcfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	}
	// Return timestamptz values in UTC rather than the process's local zone.
	pcfg.AfterConnect = func(_ context.Context, c *pgx.Conn) error {
		c.TypeMap().RegisterType(&pgtype.Type{Name: "timestamptz", OID: pgtype.TimestamptzOID, Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC}})
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return fmt.Errorf("connect to PostgreSQL at %s: %w", describeURL(dsn), err)
	}
	s.pool = pool
	s.sqlDB = stdlib.OpenDBFromPool(pool)
	s.dialect = Postgres
	s.db, err = gorm.Open(postgres.New(postgres.Config{Conn: s.sqlDB}), gcfg)
	if err != nil {
		s.Close()
		return fmt.Errorf("open gorm on PostgreSQL: %w", err)
	}
	s.rdb, s.rsqlDB = s.db, s.sqlDB
	return nil
}

func (s *Store) openSQLite(dataDir string, gcfg *gorm.Config) error {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	path := SQLitePath(dataDir)
	// _txlock=immediate takes the write lock at BEGIN, so two processes on
	// one file wait on busy_timeout instead of failing to upgrade a lock.
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return fmt.Errorf("open SQLite %s: %w", path, err)
	}
	// One connection: SQLite has one writer, and River's SQLite driver wants it.
	db.SetMaxOpenConns(1)
	if err := pingSQLite(db); err != nil {
		db.Close()
		return fmt.Errorf("open SQLite %s: %w", path, err)
	}
	// The file holds ciphertexts and tenant data: owner only (its -wal and
	// -shm files take the same mode).
	if err := os.Chmod(path, 0o600); err != nil {
		db.Close()
		return fmt.Errorf("restrict SQLite file mode: %w", err)
	}
	s.sqlDB = db
	s.dialect = SQLite
	s.lockDir = filepath.Join(dataDir, "locks")
	s.db, err = gorm.Open(sqlite.Dialector{Conn: db}, gcfg)
	if err != nil {
		db.Close()
		return fmt.Errorf("open gorm on SQLite: %w", err)
	}
	// Readers: query_only, no write lock at BEGIN.
	rdb, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=query_only(1)")
	if err != nil {
		db.Close()
		return fmt.Errorf("open SQLite %s for reading: %w", path, err)
	}
	rdb.SetMaxOpenConns(sqliteReaders)
	rdb.SetMaxIdleConns(sqliteReaders)
	s.rsqlDB = rdb
	s.rdb, err = gorm.Open(sqlite.Dialector{Conn: rdb}, gcfg)
	if err != nil {
		rdb.Close()
		db.Close()
		return fmt.Errorf("open gorm on SQLite for reading: %w", err)
	}
	return nil
}

// sqliteExists checks, without creating anything, that dataDir holds a database file.
func sqliteExists(dataDir string) error {
	path := SQLitePath(dataDir)
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	dir := filepath.Dir(path)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return fmt.Errorf("%w: the data directory %s does not exist", ErrNoDatabase, dir)
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("%w: the data directory %s holds no database file (%s)", ErrNoDatabase, dir, filepath.Base(path))
	}
	return nil
}

// hasSchema checks that the opened database holds Overshare's schema (migrations applied at
// least once).
func (s *Store) hasSchema(ctx context.Context, cfg Config) error {
	query := `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'schema_version'`
	if s.dialect == SQLite {
		query = `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'`
	}
	var n int
	if err := s.sqlDB.QueryRowContext(ctx, query).Scan(&n); err != nil {
		return fmt.Errorf("look for Overshare's tables: %w", err)
	}
	if n > 0 {
		if v, err := readVersion(ctx, s.sqlDB); err == nil && v > 0 {
			return nil
		}
	}
	return fmt.Errorf("%w: %s holds no Overshare tables", ErrNoDatabase, strings.TrimPrefix(strings.TrimPrefix(Describe(cfg), "SQLite "), "PostgreSQL "))
}

// pingSQLite opens the first connection. Its journal_mode(WAL) pragma needs the file to
// itself and SQLite does not always wait busy_timeout for that, so another process opening
// the same new file at the same moment answers SQLITE_BUSY at once (seen in
// TestConcurrentOpenMigratesOnce on a clean-clone make test): retry for as long as
// busy_timeout would have waited.
func pingSQLite(db *sql.DB) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := db.Ping()
		if err == nil || !sqliteBusy(err) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sqliteBusy reports SQLITE_BUSY or one of its extended codes (the primary
// code is the low byte), as glebarez/go-sqlite's *Error reports them.
func sqliteBusy(err error) bool {
	const sqliteBusyCode = 5
	var coded interface{ Code() int }
	return errors.As(err, &coded) && coded.Code()&0xff == sqliteBusyCode
}

// sqliteReaders is how many read-only SQLite connections serve the API.
const sqliteReaders = 4

// Close releases the database connections.
func (s *Store) Close() error {
	var err error
	if s.sqlDB != nil {
		err = s.sqlDB.Close()
	}
	if s.rsqlDB != nil && s.rsqlDB != s.sqlDB {
		err = errors.Join(err, s.rsqlDB.Close())
	}
	if s.pool != nil {
		s.pool.Close()
	}
	return err
}

// Gorm returns the gorm handle (for packages that need a transaction shared
// with the store, such as River's transactional enqueue).
func (s *Store) Gorm() *gorm.DB { return s.db }

// SQLDB returns the database/sql handle.
func (s *Store) SQLDB() *sql.DB { return s.sqlDB }

// PgxPool returns the pgx pool on PostgreSQL and nil on SQLite.
func (s *Store) PgxPool() *pgxpool.Pool { return s.pool }

// Dialect returns "postgres" or "sqlite".
func (s *Store) Dialect() string { return s.dialect }

// AppliedMigrations returns the migration versions this Open applied.
func (s *Store) AppliedMigrations() []int { return append([]int(nil), s.applied...) }

// SchemaVersion returns the version of the database schema.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	return schemaVersion(ctx, s.sqlDB)
}

// LatestSchemaVersion is the version this build migrates to.
func LatestSchemaVersion() int { return len(migrations) }

// tx is one transaction. On PostgreSQL it also holds the connection the
// transaction runs on, so COPY can join the transaction.
type tx struct {
	db      *gorm.DB
	conn    *sql.Conn // PostgreSQL only
	dialect string
	native  nativeMethod
	now     time.Time // the moment links expire against in this transaction
	// historyOf holds the integrations whose sharing history this transaction wrote.
	historyOf map[string]bool
}

// inTx runs fn in one transaction: committed when fn returns nil, rolled
// back otherwise.
func (s *Store) inTx(ctx context.Context, fn func(t *tx) error) error {
	return s.inTxAt(ctx, s.clock(), fn)
}

// inTxAt is inTx with links expiring against the moment at. After a commit that recorded
// sharing history it tells the OnSharingChange function.
func (s *Store) inTxAt(ctx context.Context, at time.Time, fn func(t *tx) error) error {
	var t *tx
	if s.dialect != Postgres {
		err := ctxErr(ctx, s.db.WithContext(ctx).Transaction(func(g *gorm.DB) error {
			t = &tx{db: g, dialect: s.dialect, native: s.native, now: at}
			return fn(t)
		}))
		s.historyCommitted(err, t)
		return err
	}
	conn, err := s.sqlDB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("get connection: %w", ctxErr(ctx, err))
	}
	defer conn.Close()
	g := s.db.Session(&gorm.Session{NewDB: true, Context: ctx})
	g.Statement.ConnPool = conn
	err = ctxErr(ctx, g.Transaction(func(g *gorm.DB) error {
		t = &tx{db: g, conn: conn, dialect: s.dialect, native: s.native, now: at}
		return fn(t)
	}))
	s.historyCommitted(err, t)
	return err
}

// ErrNotFound is returned when a requested row does not exist.
var ErrNotFound = errors.New("not found")

func notFound(err error, what string) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// describeURL names the host and database of a URL without its password.
func describeURL(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		return "the configured database"
	}
	return u.Host + u.Path
}

func redactURLError(err error) error {
	// pgx errors for bad URLs may quote the URL; never echo a password.
	msg := err.Error()
	if strings.Contains(msg, "@") {
		return errors.New("malformed database URL")
	}
	return err
}

// now is the current time as stored: UTC, microseconds (PostgreSQL's
// precision, applied on SQLite too so both databases return equal values).
func now() time.Time { return utc(time.Now()) }

func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
