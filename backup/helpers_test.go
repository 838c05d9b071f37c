package backup

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/internal/testenv"
)

// liveDB is the database of a test: its URL for the Manager, and a way to
// open the application's pool to it.
type liveDB struct {
	engine Engine
	url    string
	open   func(t testing.TB) *sqlx.DB
}

// sqliteLive creates a SQLite file in WAL mode (as the example app runs it).
func sqliteLive(t testing.TB) liveDB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data", "live.db")
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o700))
	open := func(t testing.TB) *sqlx.DB {
		t.Helper()
		db, err := sqlx.Open("sqlite", path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
		require.NoError(t, err)
		db.SetMaxOpenConns(4)
		t.Cleanup(func() { db.Close() })
		require.NoError(t, db.Ping())
		return db
	}
	return liveDB{engine: SQLite, url: "sqlite://" + path, open: open}
}

// postgresLive creates a PostgreSQL database through internal/testenv
// (skipped, or failed under SENFI_TEST_REQUIRE_SERVICES=1, without a
// server); it is dropped when the test ends.
func postgresLive(t testing.TB) liveDB {
	t.Helper()
	dsn, first := testenv.PostgresDSN(t)
	first.Close()
	open := func(t testing.TB) *sqlx.DB {
		t.Helper()
		db, err := sqlx.Open("pgx", dsn)
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		require.NoError(t, db.Ping())
		return db
	}
	return liveDB{engine: PostgreSQL, url: dsn, open: open}
}

// engines runs f once per engine.
func engines(t *testing.T, f func(t *testing.T, live liveDB)) {
	t.Run("sqlite", func(t *testing.T) { f(t, sqliteLive(t)) })
	t.Run("postgres", func(t *testing.T) { f(t, postgresLive(t)) })
}

// createSchema makes the test application's tables, with goose's version
// table at version 2 (3 was applied, then rolled back).
func createSchema(t testing.TB, db *sqlx.DB) {
	t.Helper()
	goose := `CREATE TABLE goose_db_version (id INTEGER PRIMARY KEY AUTOINCREMENT, version_id INTEGER NOT NULL, is_applied INTEGER NOT NULL)`
	if db.DriverName() == "pgx" {
		goose = `CREATE TABLE goose_db_version (id SERIAL PRIMARY KEY, version_id BIGINT NOT NULL, is_applied BOOLEAN NOT NULL)`
	}
	for _, q := range []string{
		`CREATE TABLE users (id BIGINT PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT NOT NULL)`,
		`CREATE TABLE signatures (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL REFERENCES users(id), note TEXT NOT NULL)`,
		goose,
		`INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true), (1, true), (2, true), (3, true), (3, false)`,
	} {
		_, err := db.Exec(q)
		require.NoError(t, err, q)
	}
}

// seed opens the application's pool to live, creates the schema and adds
// users 1 to users-1.
func seed(t testing.TB, live liveDB, users int) *sqlx.DB {
	t.Helper()
	app := live.open(t)
	createSchema(t, app)
	insertUsers(t, app, 1, users)
	return app
}

// setGooseVersion records v as the newest applied migration.
func setGooseVersion(t testing.TB, db *sqlx.DB, v int64) {
	t.Helper()
	_, err := db.Exec(db.Rebind(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, true)`), v)
	require.NoError(t, err)
}

// insertUsers adds users from..to-1, each with one signature.
func insertUsers(t testing.TB, db *sqlx.DB, from, to int) {
	t.Helper()
	tx, err := db.Beginx()
	require.NoError(t, err)
	for id := from; id < to; id++ {
		_, err = tx.Exec(tx.Rebind(`INSERT INTO users (id, email, name) VALUES (?, ?, ?)`), id, fmt.Sprintf("u%d@example.com", id), strings.Repeat("n", id%50))
		require.NoError(t, err)
		_, err = tx.Exec(tx.Rebind(`INSERT INTO signatures (id, user_id, note) VALUES (?, ?, ?)`), id, id, fmt.Sprintf("note %d", id))
		require.NoError(t, err)
	}
	require.NoError(t, tx.Commit())
}

// snapshot returns every row of the application's tables, in order.
func snapshot(t testing.TB, db *sqlx.DB) []string {
	t.Helper()
	var out []string
	for _, q := range []string{
		`SELECT id || '|' || email || '|' || name FROM users ORDER BY id`,
		`SELECT id || '|' || user_id || '|' || note FROM signatures ORDER BY id`,
	} {
		var rows []string
		require.NoError(t, db.Select(&rows, q))
		out = append(out, rows...)
		out = append(out, "--")
	}
	return out
}

// eventLog records the events of a Manager.
type eventLog struct {
	mu     sync.Mutex
	events []Event
}

func (l *eventLog) add(e Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

// kinds returns the kinds recorded, in order.
func (l *eventLog) kinds() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var k []string
	for _, e := range l.events {
		s := string(e.Kind)
		if e.Kind == EventFailed {
			s += ":" + string(e.Op)
		}
		k = append(k, s)
	}
	return k
}

// testManager builds a Manager on live with a fresh backup directory.
func testManager(t testing.TB, live liveDB, mod func(*Options)) (*Manager, *eventLog) {
	t.Helper()
	log := &eventLog{}
	opts := Options{Dir: filepath.Join(t.TempDir(), "backups"), DatabaseURL: live.url, OnEvent: log.add, AppVersion: "test"}
	if mod != nil {
		mod(&opts)
	}
	m, err := newManager(opts, func(int) bool { return false }, nil)
	require.NoError(t, err)
	return m, log
}

// withHook returns a copy of m's configuration with a test hook: a new
// Manager on the same directory and database.
func withHook(t testing.TB, m *Manager, hook func(step string) error) *Manager {
	t.Helper()
	cfg := *m.cfg
	cfg.hook = hook
	return &Manager{cfg: &cfg, drv: cfg.driver(), lock: m.lock}
}

// dirFiles lists the names in dir, sorted.
func dirFiles(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}

// ctxT returns a context bounded for one test.
func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// force is the RestoreOptions of tests that do not test confirmation.
var force = RestoreOptions{Force: true}
