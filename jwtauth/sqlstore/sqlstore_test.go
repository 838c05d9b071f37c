package sqlstore_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/senfi-sharif/senfi/internal/testenv"
	"github.com/senfi-sharif/senfi/jwtauth"
	"github.com/senfi-sharif/senfi/jwtauth/sqlstore"
	"github.com/senfi-sharif/senfi/jwtauth/storetest"
)

var update = flag.Bool("update", false, "rewrite the golden schema files in testdata/")

// databases are the two dialects, each opened fresh per call.
var databases = []struct {
	name string
	open func(t testing.TB) *sqlx.DB
}{
	{"sqlite", testenv.SQLite},
	{"postgres", testenv.Postgres},
}

func newStore(t testing.TB, db *sqlx.DB, opts sqlstore.Options) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.New(db, opts)
	require.NoError(t, err)
	require.NoError(t, s.Migrate(t.Context()))
	return s
}

func TestConformanceSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) jwtauth.Store {
		return newStore(t, testenv.SQLite(t), sqlstore.Options{})
	})
}

func TestConformancePostgres(t *testing.T) {
	db := testenv.Postgres(t)
	// One database, a fresh set of tables per subtest: cheaper than a
	// database each.
	var n atomic.Int64
	storetest.Run(t, func(t *testing.T) jwtauth.Store {
		return newStore(t, db, sqlstore.Options{TablePrefix: fmt.Sprintf("t%d_", n.Add(1))})
	})
}

func TestNewErrors(t *testing.T) {
	sqliteDB := testenv.SQLite(t)
	mysqlDB := sqlx.NewDb(sqliteDB.DB, "mysql")

	_, err := sqlstore.New(nil, sqlstore.Options{})
	require.ErrorIs(t, err, sqlstore.ErrNilDB)

	_, err = sqlstore.New(mysqlDB, sqlstore.Options{})
	require.ErrorIs(t, err, sqlstore.ErrUnsupportedDriver)
	for _, name := range []string{"pgx", "postgres", "sqlite", "sqlite3"} {
		assert.Contains(t, err.Error(), name, "the error names the supported drivers")
	}

	for _, p := range []string{
		"Jwt_", "1abc", "a-b", "a b", "a;drop_", "jwtauth.", "é_", `a"`,
		strings.Repeat("a", 33),
	} {
		_, err := sqlstore.New(sqliteDB, sqlstore.Options{TablePrefix: p})
		assert.ErrorIs(t, err, sqlstore.ErrInvalidTablePrefix, "prefix %q", p)
	}
	for _, p := range []string{"", "_", "a", "app1_jwt_", strings.Repeat("a", 32)} {
		s, err := sqlstore.New(sqliteDB, sqlstore.Options{TablePrefix: p})
		if assert.NoError(t, err, "prefix %q", p) && p != "" {
			assert.Equal(t, p, s.TablePrefix())
		}
	}

	// Every problem is reported at once.
	_, err = sqlstore.New(mysqlDB, sqlstore.Options{TablePrefix: "Bad"})
	assert.ErrorIs(t, err, sqlstore.ErrUnsupportedDriver)
	assert.ErrorIs(t, err, sqlstore.ErrInvalidTablePrefix)
}

func TestDialectDetection(t *testing.T) {
	raw := testenv.SQLite(t).DB
	for driver, want := range map[string]sqlstore.Dialect{
		"pgx":      sqlstore.Postgres,
		"pgx/v5":   sqlstore.Postgres,
		"postgres": sqlstore.Postgres,
		"sqlite":   sqlstore.SQLite,
		"sqlite3":  sqlstore.SQLite,
	} {
		s, err := sqlstore.New(sqlx.NewDb(raw, driver), sqlstore.Options{})
		require.NoError(t, err, driver)
		assert.Equal(t, want, s.Dialect(), driver)
	}
}

func TestMigrate(t *testing.T) {
	for _, d := range databases {
		t.Run(d.name, func(t *testing.T) {
			db := d.open(t)
			s := newStore(t, db, sqlstore.Options{})
			require.NoError(t, s.Migrate(t.Context()), "second Migrate")

			// Replicas starting together all migrate.
			s2, err := sqlstore.New(db, sqlstore.Options{TablePrefix: "other_"})
			require.NoError(t, err)
			var wg sync.WaitGroup
			errs := make([]error, 4)
			for i := range errs {
				wg.Go(func() { errs[i] = s2.Migrate(t.Context()) })
			}
			wg.Wait()
			for _, err := range errs {
				assert.NoError(t, err, "concurrent Migrate")
			}

			// The migrated tables are usable, and the two prefixes are
			// separate stores.
			ref := jwtauth.TokenRef{Subject: "alice", Family: "f", IssuedAt: time.Now()}
			require.NoError(t, s.RevokeFamily(t.Context(), "f", time.Now().Add(time.Hour)))
			got, err := s2.Revoked(t.Context(), ref)
			require.NoError(t, err)
			assert.False(t, got, "other prefix, other tables")
			got, err = s.Revoked(t.Context(), ref)
			require.NoError(t, err)
			assert.True(t, got)
		})
	}
}

func TestMigrateCancelled(t *testing.T) {
	s := newStore(t, testenv.SQLite(t), sqlstore.Options{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	assert.ErrorIs(t, s.Migrate(ctx), context.Canceled)
}

func TestSchemaGolden(t *testing.T) {
	for _, d := range []sqlstore.Dialect{sqlstore.Postgres, sqlstore.SQLite} {
		got, err := sqlstore.Schema(d, "")
		require.NoError(t, err)
		path := filepath.Join("testdata", "schema_"+string(d)+".sql")
		if *update {
			require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		}
		want, err := os.ReadFile(path)
		require.NoError(t, err, "run go test -run TestSchemaGolden -update")
		assert.Equal(t, string(want), got, "%s is stale: run go test -run TestSchemaGolden -update", path)
	}

	_, err := sqlstore.Schema("mysql", "")
	assert.ErrorIs(t, err, sqlstore.ErrUnsupportedDriver)
	_, err = sqlstore.Schema(sqlstore.SQLite, "x-")
	assert.ErrorIs(t, err, sqlstore.ErrInvalidTablePrefix)
}

// TestSchemaRunsAsScript runs the text of Schema as one script, as a
// migration tool would, and then uses the tables.
func TestSchemaRunsAsScript(t *testing.T) {
	for _, d := range databases {
		t.Run(d.name, func(t *testing.T) {
			db := d.open(t)
			s, err := sqlstore.New(db, sqlstore.Options{TablePrefix: "app_"})
			require.NoError(t, err)
			script, err := sqlstore.Schema(s.Dialect(), "app_")
			require.NoError(t, err)
			_, err = db.ExecContext(t.Context(), script)
			require.NoError(t, err)
			first, _, err := s.Consume(t.Context(), "jti", time.Now(), time.Now().Add(time.Hour))
			require.NoError(t, err)
			assert.True(t, first)
		})
	}
}

// clock is a settable clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func count(t *testing.T, db *sqlx.DB, table string) int {
	t.Helper()
	var n int
	require.NoError(t, db.GetContext(t.Context(), &n, "SELECT count(*) FROM "+table))
	return n
}

// TestExpiry checks with an injected clock that expired entries stop
// counting before any sweep, and that Sweep deletes exactly them.
func TestExpiry(t *testing.T) {
	for _, d := range databases {
		t.Run(d.name, func(t *testing.T) {
			db := d.open(t)
			start := time.UnixMicro(1_700_000_000_000_123)
			clk := &clock{t: start}
			s := newStore(t, db, sqlstore.Options{Now: clk.Now})
			ctx := t.Context()
			short, long := start.Add(time.Minute), start.Add(time.Hour)

			require.NoError(t, s.RevokeFamily(ctx, "fam-short", short))
			require.NoError(t, s.RevokeFamily(ctx, "fam-long", long))
			require.NoError(t, s.RevokeSubject(ctx, "sub-short", start, short))
			require.NoError(t, s.RevokeSubject(ctx, "sub-long", start, long))
			for _, jti := range []string{"jti-short", "jti-long"} {
				exp := short
				if jti == "jti-long" {
					exp = long
				}
				first, _, err := s.Consume(ctx, jti, start, exp)
				require.NoError(t, err)
				require.True(t, first)
			}

			revoked := func(sub, fam string) bool {
				t.Helper()
				got, err := s.Revoked(ctx, jwtauth.TokenRef{Subject: sub, Family: fam, IssuedAt: start})
				require.NoError(t, err)
				return got
			}
			assert.True(t, revoked("x", "fam-short"))
			assert.True(t, revoked("sub-short", "x"))

			// Expiry is exclusive: at exactly expires the entry is gone.
			clk.Add(time.Minute)
			assert.False(t, revoked("x", "fam-short"), "expired family")
			assert.False(t, revoked("sub-short", "x"), "expired subject")
			assert.True(t, revoked("x", "fam-long"))
			assert.True(t, revoked("sub-long", "x"))

			// An expired used mark is replaced atomically by a new first use.
			now := clk.Now()
			first, usedAt, err := s.Consume(ctx, "jti-short", now, now.Add(time.Hour))
			require.NoError(t, err)
			assert.True(t, first, "an expired mark does not count")
			assert.Equal(t, now, usedAt)
			first, usedAt, err = s.Consume(ctx, "jti-short", now.Add(time.Second), now.Add(time.Hour))
			require.NoError(t, err)
			assert.False(t, first)
			assert.Equal(t, now.UnixMicro(), usedAt.UnixMicro())

			// An expired subject mark restarts from the new call.
			require.NoError(t, s.RevokeSubject(ctx, "sub-short", start.Add(-time.Hour), long.Add(time.Hour)))
			assert.False(t, revoked("sub-short", "x"), "the old, expired mark does not come back")

			// Sweep deletes what expired and nothing else.
			p := s.TablePrefix()
			clk.Add(59 * time.Minute) // at start+1h: all but the renewed jti-short and sub-short expired
			n, err := s.Sweep(ctx)
			require.NoError(t, err)
			assert.EqualValues(t, 4, n, "fam-short, fam-long, sub-long, jti-long")
			assert.Equal(t, 0, count(t, db, p+"families"))
			assert.Equal(t, 1, count(t, db, p+"subjects"))
			assert.Equal(t, 1, count(t, db, p+"used_tokens"))

			n, err = s.Sweep(ctx)
			require.NoError(t, err)
			assert.Zero(t, n, "nothing left to sweep")
		})
	}
}

// TestRunSweeper runs the sweeper in a synctest bubble, so its ticker follows
// the fake clock, against SQLite (no network I/O, so the bubble can tell when
// it is idle).
func TestRunSweeper(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := testenv.SQLite(t)
		s := newStore(t, db, sqlstore.Options{})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- s.RunSweeper(ctx, time.Minute) }()

		now := time.Now()
		require.NoError(t, s.RevokeFamily(t.Context(), "f1", now.Add(30*time.Second)))
		require.NoError(t, s.RevokeFamily(t.Context(), "f2", now.Add(90*time.Second)))
		synctest.Wait()
		assert.Equal(t, 2, count(t, db, s.TablePrefix()+"families"))

		time.Sleep(time.Minute) // fake time: one tick
		synctest.Wait()
		assert.Equal(t, 1, count(t, db, s.TablePrefix()+"families"), "f1 swept at the first tick")

		time.Sleep(time.Minute)
		synctest.Wait()
		assert.Equal(t, 0, count(t, db, s.TablePrefix()+"families"), "f2 swept at the second tick")

		cancel()
		assert.NoError(t, <-done)
	})

	s := newStore(t, testenv.SQLite(t), sqlstore.Options{})
	assert.Error(t, s.RunSweeper(t.Context(), 0))
}

// TestSharedDatabase runs two stores over two connection pools on one
// database, as two replicas would: they see each other's writes, and 50
// concurrent Consume calls split between them have exactly one winner.
func TestSharedDatabase(t *testing.T) {
	for _, d := range []struct {
		name string
		open func(t *testing.T) (a, b *sqlx.DB)
	}{
		{"sqlite", func(t *testing.T) (a, b *sqlx.DB) {
			path := filepath.Join(t.TempDir(), "shared.db")
			dsn := path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)"
			a, b = sqlx.MustOpen("sqlite", dsn), sqlx.MustOpen("sqlite", dsn)
			t.Cleanup(func() { a.Close(); b.Close() })
			return a, b
		}},
		{"postgres", func(t *testing.T) (a, b *sqlx.DB) {
			dsn, a := testenv.PostgresDSN(t)
			b = sqlx.MustOpen("pgx", dsn)
			t.Cleanup(func() { b.Close() })
			return a, b
		}},
	} {
		t.Run(d.name, func(t *testing.T) {
			dbA, dbB := d.open(t)
			a := newStore(t, dbA, sqlstore.Options{})
			b := newStore(t, dbB, sqlstore.Options{})
			ctx := t.Context()
			now := time.Now()

			require.NoError(t, a.RevokeFamily(ctx, "f", now.Add(time.Hour)))
			got, err := b.Revoked(ctx, jwtauth.TokenRef{Subject: "s", Family: "f", IssuedAt: now})
			require.NoError(t, err)
			assert.True(t, got, "b sees a's revocation")

			const n = 50
			var firsts atomic.Int32
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				store := a
				if i%2 == 1 {
					store = b
				}
				wg.Go(func() {
					<-start
					first, _, err := store.Consume(ctx, "jti", now, now.Add(time.Hour))
					assert.NoError(t, err)
					if first {
						firsts.Add(1)
					}
				})
			}
			close(start)
			wg.Wait()
			assert.EqualValues(t, 1, firsts.Load(), "exactly one first across both replicas")
		})
	}
}

// TestSQLiteWithoutBusyTimeout opens SQLite without a busy timeout: the
// store's own retries must still give 50 concurrent Consume calls exactly
// one winner and no error.
func TestSQLiteWithoutBusyTimeout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nobusy.db")
	db := sqlx.MustOpen("sqlite", path+"?_pragma=journal_mode(WAL)")
	t.Cleanup(func() { db.Close() })
	s := newStore(t, db, sqlstore.Options{})
	now := time.Now()
	const n = 50
	var firsts atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			first, _, err := s.Consume(t.Context(), "jti", now, now.Add(time.Hour))
			assert.NoError(t, err)
			if first {
				firsts.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	assert.EqualValues(t, 1, firsts.Load())
}

// TestStoredMicroseconds checks the columns: before_us and used_at_us hold
// Unix microseconds, truncated, and expires_at_ms Unix milliseconds; and a
// token issued in the same millisecond as a revocation, but a microsecond
// later, is not revoked.
func TestStoredMicroseconds(t *testing.T) {
	for _, d := range databases {
		t.Run(d.name, func(t *testing.T) {
			db := d.open(t)
			s := newStore(t, db, sqlstore.Options{})
			ctx := t.Context()
			before := time.UnixMicro(time.Now().UnixMilli()*1000 + 123).Add(456 * time.Nanosecond)
			expires := before.Add(time.Hour)
			require.NoError(t, s.RevokeSubject(ctx, "alice", before, expires))
			var row struct {
				Before  int64 `db:"before_us"`
				Expires int64 `db:"expires_at_ms"`
			}
			require.NoError(t, db.GetContext(ctx, &row, "SELECT before_us, expires_at_ms FROM jwtauth_subjects"))
			assert.Equal(t, before.UnixMicro(), row.Before)
			assert.Equal(t, expires.UnixMilli(), row.Expires)

			for iat, want := range map[time.Time]bool{
				before.Truncate(time.Microsecond):                       true,
				before.Truncate(time.Microsecond).Add(time.Microsecond): false,
			} {
				got, err := s.Revoked(ctx, jwtauth.TokenRef{Subject: "alice", Family: "f", IssuedAt: iat})
				require.NoError(t, err)
				assert.Equal(t, want, got, "IssuedAt %s", iat.Format(time.StampMicro))
			}

			first, _, err := s.Consume(ctx, "jti", before, expires)
			require.NoError(t, err)
			require.True(t, first)
			var usedAt int64
			require.NoError(t, db.GetContext(ctx, &usedAt, "SELECT used_at_us FROM jwtauth_used_tokens"))
			assert.Equal(t, before.UnixMicro(), usedAt)
			_, got, err := s.Consume(ctx, "jti", before.Add(time.Second), expires)
			require.NoError(t, err)
			assert.True(t, got.Equal(time.UnixMicro(before.UnixMicro())), "usedAt %s, want %s",
				got.Format(time.StampNano), before.Format(time.StampNano))
		})
	}
}

// TestBoundParameters stores IDs that would break a query built by string
// concatenation, then checks that the tables hold them verbatim.
func TestBoundParameters(t *testing.T) {
	for _, d := range databases {
		t.Run(d.name, func(t *testing.T) {
			db := d.open(t)
			s := newStore(t, db, sqlstore.Options{})
			id := `x'); DROP TABLE jwtauth_families; --`
			require.NoError(t, s.RevokeFamily(t.Context(), id, time.Now().Add(time.Hour)))
			var got string
			require.NoError(t, db.GetContext(t.Context(), &got, "SELECT fid FROM jwtauth_families"))
			assert.Equal(t, id, got)
		})
	}
}

// TestPreparedRevoked: on SQLite Revoked runs a statement prepared on first
// use. Before Migrate it reports the missing table (and prepares nothing),
// after Migrate it works, and after Close it keeps working unprepared.
func TestPreparedRevoked(t *testing.T) {
	for _, d := range databases {
		t.Run(d.name, func(t *testing.T) {
			ctx := t.Context()
			s, err := sqlstore.New(d.open(t), sqlstore.Options{TablePrefix: "prep_"})
			require.NoError(t, err)
			ref := jwtauth.TokenRef{Subject: "s", Family: "f", IssuedAt: time.Now()}
			_, err = s.Revoked(ctx, ref)
			require.Error(t, err, "Revoked before Migrate")
			require.NoError(t, s.Migrate(ctx))
			for range 2 { // the first call prepares, the second reuses
				revoked, err := s.Revoked(ctx, ref)
				require.NoError(t, err)
				assert.False(t, revoked)
			}
			require.NoError(t, s.RevokeFamily(ctx, "f", time.Now().Add(time.Hour)))
			revoked, err := s.Revoked(ctx, ref)
			require.NoError(t, err)
			assert.True(t, revoked)
			require.NoError(t, s.Close())
			require.NoError(t, s.Close(), "Close twice")
			revoked, err = s.Revoked(ctx, ref)
			require.NoError(t, err, "Revoked after Close")
			assert.True(t, revoked)
		})
	}
}
