// Package data is the Senfi backend's storage: users, verification codes,
// campaigns and signatures, polls and votes, blog posts, sessions, and the
// account deletion and export queries, in PostgreSQL or SQLite, through sqlx.
//
// The same SQL runs on both engines: placeholders are written as '?' and
// rebound for PostgreSQL, inserts use RETURNING (PostgreSQL, SQLite 3.35+), and
// every time is an integer of Unix microseconds (UTC), so ordering and
// comparisons do not depend on an engine's date type. The schema lives in
// versioned, embedded goose migrations, one directory per engine
// (migrations/postgres, migrations/sqlite), applied by [DB.Migrate]. On
// SQLite, single-row reads run as statements prepared once per query
// (modernc.org/sqlite would compile the SQL on every call); pgx caches
// PostgreSQL's statements by itself.
//
// Invariants that matter for security are constraints, not handler checks:
// one account per lower-cased e-mail (unique index), one signature per user and
// campaign (unique constraint: of concurrent sign requests exactly one
// inserts), one participation per user and poll, status and anonymity from
// fixed sets (CHECK).
package data

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations
var migrations embed.FS

// Engine names a supported database engine.
type Engine string

// The supported engines.
const (
	Postgres Engine = "postgres"
	SQLite   Engine = "sqlite"
)

// ErrNotFound is returned when a looked-up row does not exist.
var ErrNotFound = errors.New("data: not found")

// ErrDuplicate is returned when an insert violates a unique constraint
// (an e-mail already registered, a campaign already signed).
var ErrDuplicate = errors.New("data: duplicate")

// DB is the application's database handle. It is safe for concurrent use.
type DB struct {
	x      *sqlx.DB
	engine Engine
	now    func() time.Time

	// Prepared single-row reads on SQLite, by query text (see stmt): an
	// immutable map replaced whole under stmtMu, read without a lock.
	stmtMu sync.Mutex
	stmts  atomic.Pointer[map[string]*sqlx.Stmt]
	closed bool
}

// maxStmts bounds the prepared-statement cache. The queries are constants
// of this package, far fewer than this.
const maxStmts = 128

// Target is a parsed database URL.
type Target struct {
	// Engine is Postgres or SQLite.
	Engine Engine
	// DSN is what the driver's Open takes.
	DSN string
	// Path is the SQLite file (empty for PostgreSQL and in-memory SQLite).
	Path string
}

// ParseURL reads a database URL: "postgres://..." or "postgresql://..." for
// PostgreSQL, "sqlite://relative/path.db", "sqlite:///absolute/path.db" or
// "sqlite::memory:" for SQLite. A relative SQLite path is taken relative to
// dataDir.
func ParseURL(raw, dataDir string) (Target, error) {
	switch {
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		if _, err := url.Parse(raw); err != nil {
			return Target{}, fmt.Errorf("not a valid postgres URL: %w", err)
		}
		return Target{Engine: Postgres, DSN: raw}, nil
	case raw == "sqlite::memory:":
		return Target{Engine: SQLite, DSN: "file::memory:?cache=shared" + sqlitePragmas("&")}, nil
	case strings.HasPrefix(raw, "sqlite://"):
		p := strings.TrimPrefix(raw, "sqlite://")
		if i := strings.IndexByte(p, '?'); i >= 0 {
			return Target{}, errors.New("sqlite URL takes no query parameters: the server sets the pragmas it needs")
		}
		if p == "" {
			return Target{}, errors.New("sqlite URL has no file path (sqlite://senfi.db or sqlite:///var/lib/senfi/senfi.db)")
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(dataDir, p)
		}
		return Target{Engine: SQLite, DSN: "file:" + p + sqlitePragmas("?"), Path: p}, nil
	default:
		return Target{}, errors.New("database URL must start with postgres://, postgresql:// or sqlite://")
	}
}

// sqlitePragmas: WAL so readers do not block the writer, a busy timeout so
// concurrent writers wait instead of failing, foreign keys on, and immediate
// transactions so a transaction that writes takes the lock at BEGIN (a
// deferred one could fail with SQLITE_BUSY when it upgrades).
func sqlitePragmas(sep string) string {
	return sep + "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
}

// Open connects to the database at t and checks the connection.
func Open(ctx context.Context, t Target) (*DB, error) {
	driver := "pgx"
	if t.Engine == SQLite {
		driver = "sqlite"
		if t.Path != "" {
			if err := os.MkdirAll(filepath.Dir(t.Path), 0o750); err != nil {
				return nil, fmt.Errorf("create the database directory: %w", err)
			}
		}
	}
	x, err := sqlx.Open(driver, t.DSN)
	if err != nil {
		return nil, err
	}
	if t.Engine == SQLite {
		// One writer at a time is SQLite's model; a small pool keeps readers
		// concurrent without piling up writers on the busy timeout.
		x.SetMaxOpenConns(8)
	} else {
		x.SetMaxOpenConns(25)
		x.SetConnMaxIdleTime(5 * time.Minute)
	}
	if err := x.PingContext(ctx); err != nil {
		_ = x.Close()
		return nil, fmt.Errorf("connect to the %s database: %w", t.Engine, err)
	}
	return &DB{x: x, engine: t.Engine, now: time.Now}, nil
}

// New wraps an open sqlx handle (driver "pgx" or "sqlite").
func New(x *sqlx.DB) *DB {
	e := Postgres
	if x.DriverName() == "sqlite" {
		e = SQLite
	}
	return &DB{x: x, engine: e, now: time.Now}
}

// SetClock replaces the clock (tests).
func (db *DB) SetClock(now func() time.Time) { db.now = now }

// Engine reports the engine.
func (db *DB) Engine() Engine { return db.engine }

// X is the underlying sqlx handle, for the stores that share the database.
func (db *DB) X() *sqlx.DB { return db.x }

// Close closes the prepared statements and the connection pool.
func (db *DB) Close() error {
	db.stmtMu.Lock()
	db.closed = true
	var errs []error
	if m := db.stmts.Swap(nil); m != nil {
		for _, st := range *m {
			errs = append(errs, st.Close())
		}
	}
	db.stmtMu.Unlock()
	return errors.Join(append(errs, db.x.Close())...)
}

// stmt returns query prepared, on SQLite, or nil. modernc.org/sqlite
// compiles an unprepared query's SQL on every call, more than half the cost
// of a single-row read by key (BenchmarkUserByID), and such reads run on
// every authenticated request. PostgreSQL needs none of this (pgx caches
// prepared statements per connection itself). A statement that fails to
// prepare is not cached; the caller then runs the query unprepared.
func (db *DB) stmt(ctx context.Context, query string) *sqlx.Stmt {
	if db.engine != SQLite {
		return nil
	}
	if m := db.stmts.Load(); m != nil {
		if st, ok := (*m)[query]; ok {
			return st
		}
	}
	db.stmtMu.Lock()
	defer db.stmtMu.Unlock()
	var old map[string]*sqlx.Stmt
	if m := db.stmts.Load(); m != nil {
		old = *m
	}
	if st, ok := old[query]; ok || db.closed || len(old) >= maxStmts {
		return st
	}
	st, err := db.x.PreparexContext(ctx, db.q(query))
	if err != nil {
		return nil
	}
	m := make(map[string]*sqlx.Stmt, len(old)+1)
	maps.Copy(m, old)
	m[query] = st
	db.stmts.Store(&m)
	return st
}

// Ping checks that the database answers (readiness).
func (db *DB) Ping(ctx context.Context) error { return db.x.PingContext(ctx) }

// Migrate applies every pending migration. On PostgreSQL an advisory lock
// serialises replicas that start together. It reports the schema version.
func (db *DB) Migrate(ctx context.Context) (int64, error) {
	p, err := db.provider()
	if err != nil {
		return 0, err
	}
	if _, err := p.Up(ctx); err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	return p.GetDBVersion(ctx)
}

// SchemaVersion reports the applied schema version (0 before any migration).
func (db *DB) SchemaVersion(ctx context.Context) (int64, error) {
	p, err := db.provider()
	if err != nil {
		return 0, err
	}
	return p.GetDBVersion(ctx)
}

func (db *DB) provider() (*goose.Provider, error) {
	sub, err := fs.Sub(migrations, "migrations/"+string(db.engine))
	if err != nil {
		return nil, err
	}
	dialect := goose.DialectSQLite3
	var opts []goose.ProviderOption
	if db.engine == Postgres {
		dialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	return goose.NewProvider(dialect, db.x.DB, sub, opts...)
}

// us converts a time to the stored integer.
func us(t time.Time) int64 { return t.UnixMicro() }

// fromUS converts a stored integer to a UTC time.
func fromUS(v int64) time.Time { return time.UnixMicro(v).UTC() }

func (db *DB) nowUS() int64 { return us(db.now()) }

// q rebinds '?' placeholders for the engine.
func (db *DB) q(query string) string { return db.x.Rebind(query) }

// isUnique reports whether err is a unique-constraint violation.
func isUnique(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	// pgx: SQLSTATE 23505; SQLite: "UNIQUE constraint failed" (code 2067).
	return strings.Contains(s, "SQLSTATE 23505") || strings.Contains(s, "UNIQUE constraint failed")
}

// getOne runs a single-row query into dst, mapping no rows to ErrNotFound.
func (db *DB) getOne(ctx context.Context, dst any, query string, args ...any) error {
	var err error
	if st := db.stmt(ctx, query); st != nil {
		err = st.GetContext(ctx, dst, args...)
	} else {
		err = db.x.GetContext(ctx, dst, db.q(query), args...)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}
