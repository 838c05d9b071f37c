// Package testenv gives tests the services they need: a fresh PostgreSQL
// database, an isolated Redis key space and a fresh SQLite file, each torn
// down when the test ends.
//
// PostgreSQL and Redis are found through environment variables, with defaults
// that match a local installation:
//
//	SENFI_TEST_POSTGRES_DSN       default postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
//	SENFI_TEST_REDIS_URL          default redis://127.0.0.1:6379/0
//	SENFI_TEST_REQUIRE_SERVICES   "1": an unreachable service fails the test instead of skipping it
//
// A developer without the services still gets a green `go test ./...` (the
// tests that need them skip, saying how to enable them); CI sets
// SENFI_TEST_REQUIRE_SERVICES=1 so that a missing service cannot pass
// silently.
//
// The PostgreSQL server must be version 13 or later (DROP DATABASE ... WITH
// (FORCE)) and the role in the DSN allowed to create databases. The
// helpers log no passwords: DSNs are redacted in messages.
package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/jmoiron/sqlx"
	"github.com/redis/go-redis/v9"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Environment variables read by this package.
const (
	EnvRequireServices = "SENFI_TEST_REQUIRE_SERVICES"
	EnvPostgresDSN     = "SENFI_TEST_POSTGRES_DSN"
	EnvRedisURL        = "SENFI_TEST_REDIS_URL"
)

// Defaults used when the environment variables are unset or empty.
const (
	DefaultPostgresDSN = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	DefaultRedisURL    = "redis://127.0.0.1:6379/0"
)

// reachTimeout bounds the reachability check of a service.
const reachTimeout = 3 * time.Second

// cleanupTimeout bounds the teardown of a database or key space.
const cleanupTimeout = 30 * time.Second

// RequireServices reports whether SENFI_TEST_REQUIRE_SERVICES is "1": then
// an unreachable service fails the test instead of skipping it.
func RequireServices() bool {
	return os.Getenv(EnvRequireServices) == "1"
}

// unavailable skips t, or fails it when services are required.
func unavailable(t testing.TB, service, addr, envVar string, err error) {
	t.Helper()
	// Driver errors may span lines (pgx lists each address it tried).
	reason := strings.Join(strings.Fields(err.Error()), " ")
	skipOrFail(t, fmt.Sprintf("%s not reachable at %s: %s: set %s or start it; %s=1 turns this skip into a failure",
		service, addr, reason, envVar, EnvRequireServices))
}

// skipOrFail skips the test with msg, or fails it when RequireServices.
func skipOrFail(t testing.TB, msg string) {
	t.Helper()
	if RequireServices() {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// randomSuffix returns 16 random lowercase hex digits.
func randomSuffix(t testing.TB) string {
	t.Helper()
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("testenv: random name: %v", err)
	}
	return hex.EncodeToString(b[:])
}

// Postgres returns a connection (driver "pgx") to a new, empty PostgreSQL
// database named senfi_test_<random>, created on the server of
// SENFI_TEST_POSTGRES_DSN. When the test ends the connection is closed and
// the database dropped (WITH (FORCE), so connections the test leaked do not
// keep it alive). If the server is unreachable the test is skipped, or failed
// when [RequireServices].
//
// Use [PostgresDSN] when the DSN of the new database is needed too, e.g. to
// hand it to pg_dump.
func Postgres(t testing.TB) *sqlx.DB {
	t.Helper()
	_, db := PostgresDSN(t)
	return db
}

// PostgresDSN is [Postgres] that also returns the DSN of the new database,
// in the same form (URL or key=value) as SENFI_TEST_POSTGRES_DSN. The DSN
// may contain a password: do not log it.
func PostgresDSN(t testing.TB) (dsn string, db *sqlx.DB) {
	t.Helper()
	adminDSN := env(EnvPostgresDSN, DefaultPostgresDSN)
	admin, err := openPostgres(adminDSN)
	if err != nil {
		// Only a malformed DSN fails here: sql.Open does not connect.
		t.Fatalf("testenv: %s: %v", EnvPostgresDSN, err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), reachTimeout)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		unavailable(t, "PostgreSQL", redactDSN(adminDSN), EnvPostgresDSN, err)
	}

	name := "senfi_test_" + randomSuffix(t)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("testenv: CREATE DATABASE %s: %v", name, err)
	}
	t.Cleanup(func() { dropPostgres(t, adminDSN, name) })

	dsn, err = withDatabase(adminDSN, name)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	sqldb, err := openPostgres(dsn)
	if err != nil {
		t.Fatalf("testenv: open %s: %v", name, err)
	}
	// Registered after the drop, so it runs before it.
	t.Cleanup(func() { sqldb.Close() })
	if err := sqldb.PingContext(ctx); err != nil {
		t.Fatalf("testenv: connect to new database %s: %v", name, err)
	}
	return dsn, sqlx.NewDb(sqldb, "pgx")
}

func openPostgres(dsn string) (*sql.DB, error) {
	return sql.Open("pgx", dsn)
}

func dropPostgres(t testing.TB, adminDSN, name string) {
	t.Helper()
	admin, err := openPostgres(adminDSN)
	if err != nil {
		t.Errorf("testenv: drop database %s: %v", name, err)
		return
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		t.Errorf("testenv: DROP DATABASE %s: %v", name, err)
	}
}

// withDatabase returns dsn with its database name replaced by name. dsn is a
// postgres:// URL or a libpq key=value string.
func withDatabase(dsn, name string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("%s: %w", EnvPostgresDSN, err)
		}
		u.Path = "/" + name
		u.RawPath = ""
		return u.String(), nil
	}
	// In a key=value string the last setting of a key wins.
	return dsn + " dbname=" + name, nil
}

// redactDSN hides the password of a URL or key=value DSN.
func redactDSN(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" && u.Host != "" {
		q := u.Query()
		if q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return u.Redacted()
	}
	password := regexp.MustCompile(`(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)
	return password.ReplaceAllString(dsn, "${1}xxxxx")
}

// RedisURL returns SENFI_TEST_REDIS_URL, or DefaultRedisURL when it is
// unset. Tests that need a second client to the server of [Redis] (a second
// replica) parse it with redis.ParseURL: reusing another client's Options is
// not supported by go-redis.
func RedisURL() string { return env(EnvRedisURL, DefaultRedisURL) }

// Redis returns a client for the server of SENFI_TEST_REDIS_URL and a key
// prefix unique to this call, "senfi-test:<random>:". The test must only
// touch keys under that prefix: when it ends every key under it is deleted
// and the client closed. If the server is unreachable the test is skipped, or
// failed when [RequireServices].
func Redis(t testing.TB) (client *redis.Client, prefix string) {
	t.Helper()
	rawURL := RedisURL()
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		t.Fatalf("testenv: %s: %v", EnvRedisURL, err)
	}
	// Probe with a client that tries once, so an absent server is reported
	// quickly; the test gets a client with the URL's own settings.
	probeOpts := *opts
	probeOpts.MaxRetries = -1
	probeOpts.DialerRetries = 1
	probe := redis.NewClient(&probeOpts)
	ctx, cancel := context.WithTimeout(context.Background(), reachTimeout)
	defer cancel()
	err = probe.Ping(ctx).Err()
	probe.Close()
	if err != nil {
		unavailable(t, "Redis", redactURL(rawURL), EnvRedisURL, err)
	}
	client = redis.NewClient(opts)
	prefix = "senfi-test:" + randomSuffix(t) + ":"
	t.Cleanup(func() {
		defer client.Close()
		if err := deletePrefix(client, prefix); err != nil {
			t.Errorf("testenv: delete Redis keys %s*: %v", prefix, err)
		}
	})
	return client, prefix
}

// deletePrefix deletes every key starting with prefix, which must contain no
// glob metacharacters.
func deletePrefix(client *redis.Client, prefix string) error {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	iter := client.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var batch []string
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := client.Unlink(ctx, batch...).Err()
		batch = batch[:0]
		return err
	}
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 1000 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := iter.Err(); err != nil {
		return err
	}
	return flush()
}

func redactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return "(unparsable URL)"
}

// SQLite returns a new SQLite database (driver "sqlite", modernc.org/sqlite)
// in a file under t.TempDir(), in WAL mode with a 5 s busy timeout on every
// connection, so concurrent writers wait for each other instead of failing
// with SQLITE_BUSY. It is closed when the test ends. SQLite needs no server,
// so this never skips.
func SQLite(t testing.TB) *sqlx.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.db")
	db, err := sqlx.Open("sqlite", path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatalf("testenv: open SQLite: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Ping(); err != nil {
		t.Fatalf("testenv: open SQLite %s: %v", path, err)
	}
	return db
}

// RedisClient returns one more client to the server of [Redis] (for tests of
// several replicas), closed when the test ends. Call it after Redis, which
// decides whether the server is reachable.
func RedisClient(t testing.TB) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(RedisURL())
	if err != nil {
		t.Fatalf("testenv: %s: %v", EnvRedisURL, err)
	}
	c := redis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	return c
}

// RedisRing returns a one-shard Ring client to the server of client, so that
// a store's Ring (and Cluster-like) code paths run against the real server.
// It is closed when the test ends.
func RedisRing(t testing.TB, client *redis.Client) *redis.Ring {
	t.Helper()
	opts := client.Options()
	ring := redis.NewRing(&redis.RingOptions{
		Addrs:    map[string]string{"shard1": opts.Addr},
		Username: opts.Username,
		Password: opts.Password,
		DB:       opts.DB,
	})
	t.Cleanup(func() { ring.Close() })
	return ring
}
