package testenv

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPostgres(t *testing.T) {
	var names []string
	// The subtest's cleanups (close, drop) run when it returns, before the
	// checks below.
	t.Run("fresh", func(t *testing.T) {
		dsn, db1 := PostgresDSN(t)
		db2 := Postgres(t)
		var n1, n2 string
		require.NoError(t, db1.GetContext(t.Context(), &n1, "SELECT current_database()"))
		require.NoError(t, db2.GetContext(t.Context(), &n2, "SELECT current_database()"))
		assert.NotEqual(t, n1, n2, "two calls must give two databases")
		assert.True(t, strings.HasPrefix(n1, "senfi_test_"), "database name %q", n1)
		assert.Contains(t, dsn, n1, "the DSN names the new database")

		var tables int
		require.NoError(t, db1.GetContext(t.Context(), &tables,
			"SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"))
		assert.Zero(t, tables, "a new database is empty")
		// A table made in one database is not visible in the other.
		_, err := db1.ExecContext(t.Context(), "CREATE TABLE only_here (x int)")
		require.NoError(t, err)
		require.NoError(t, db2.GetContext(t.Context(), &tables,
			"SELECT count(*) FROM information_schema.tables WHERE table_name = 'only_here'"))
		assert.Zero(t, tables)
		names = []string{n1, n2}
	})
	if t.Skipped() || len(names) == 0 {
		return
	}

	admin := Postgres(t) // any connection to the server will do
	for _, name := range names {
		var n int
		require.NoError(t, admin.GetContext(t.Context(), &n, "SELECT count(*) FROM pg_database WHERE datname = $1", name))
		assert.Zero(t, n, "database %s must be dropped after its test", name)
	}
}

func TestRedis(t *testing.T) {
	var prefixes []string
	t.Run("fresh", func(t *testing.T) {
		c1, p1 := Redis(t)
		c2, p2 := Redis(t)
		assert.NotEqual(t, p1, p2, "two calls must give two prefixes")
		assert.True(t, strings.HasPrefix(p1, "senfi-test:") && strings.HasSuffix(p1, ":"), "prefix %q", p1)
		for i := range 1500 { // more than one UNLINK batch
			require.NoError(t, c1.Set(t.Context(), fmt.Sprintf("%sk%d", p1, i), "v", 0).Err())
		}
		require.NoError(t, c2.Set(t.Context(), p2+"k", "v", 0).Err())
		prefixes = []string{p1, p2}
	})
	if t.Skipped() || len(prefixes) == 0 {
		return
	}

	c, _ := Redis(t)
	for _, p := range prefixes {
		keys, _, err := c.Scan(t.Context(), 0, p+"*", 10000).Result()
		require.NoError(t, err)
		assert.Empty(t, keys, "keys under %s must be deleted after the test", p)
	}
}

func TestSQLite(t *testing.T) {
	db1 := SQLite(t)
	db2 := SQLite(t)

	var mode string
	require.NoError(t, db1.Get(&mode, "PRAGMA journal_mode"))
	assert.Equal(t, "wal", mode)
	var timeout int
	require.NoError(t, db1.Get(&timeout, "PRAGMA busy_timeout"))
	assert.Equal(t, 5000, timeout)

	_, err := db1.Exec("CREATE TABLE only_here (x int)")
	require.NoError(t, err)
	var n int
	require.NoError(t, db2.Get(&n, "SELECT count(*) FROM sqlite_schema WHERE name = 'only_here'"))
	assert.Zero(t, n, "two calls must give two databases")
}

// TestUnreachable points the helpers at a closed port and checks that they
// skip, with a message naming the variable to set, or fail when services are
// required.
func TestUnreachable(t *testing.T) {
	t.Setenv(EnvPostgresDSN, "postgres://postgres:secret@127.0.0.1:1/x?sslmode=disable")
	t.Setenv(EnvRedisURL, "redis://:secret@127.0.0.1:1/0")
	helpers := []struct {
		name, env string
		call      func(tb testing.TB)
	}{
		{"Postgres", EnvPostgresDSN, func(tb testing.TB) { Postgres(tb) }},
		{"Redis", EnvRedisURL, func(tb testing.TB) { Redis(tb) }},
	}
	for _, h := range helpers {
		for _, require := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/require=%v", h.name, require), func(t *testing.T) {
				if require {
					t.Setenv(EnvRequireServices, "1")
				} else {
					t.Setenv(EnvRequireServices, "")
				}
				r := runRecorded(t, h.call)
				assert.Equal(t, !require, r.skipped, "skipped")
				assert.Equal(t, require, r.failed, "failed")
				assert.Contains(t, r.msg, "not reachable at")
				assert.Contains(t, r.msg, h.env)
				assert.Contains(t, r.msg, EnvRequireServices+"=1")
				assert.NotContains(t, r.msg, "secret", "the password must be redacted")
			})
		}
	}
}

func TestRedactDSN(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://u:pw@h:5432/db?sslmode=disable", "postgres://u:xxxxx@h:5432/db?sslmode=disable"},
		{"postgres://u@h/db?password=pw", "postgres://u@h/db?password=xxxxx"},
		{"host=h user=u password=pw dbname=d", "host=h user=u password=xxxxx dbname=d"},
		{"host=h password = 'p w\\'x' dbname=d", "host=h password = xxxxx dbname=d"},
	} {
		assert.Equal(t, tc.want, redactDSN(tc.in), tc.in)
	}
}

func TestWithDatabase(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://u@h:5432/postgres?sslmode=disable", "postgres://u@h:5432/other?sslmode=disable"},
		{"postgresql://u@h", "postgresql://u@h/other"},
		{"host=h dbname=postgres", "host=h dbname=postgres dbname=other"},
	} {
		got, err := withDatabase(tc.in, "other")
		require.NoError(t, err)
		assert.Equal(t, tc.want, got, tc.in)
	}
}

// recordingTB is a testing.TB that records Skip and Fatal instead of
// reporting them; like the real ones, they end the calling goroutine.
type recordingTB struct {
	testing.TB
	mu              sync.Mutex
	skipped, failed bool
	msg             string
	cleanups        []func()
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) end(skip bool, args ...any) {
	r.mu.Lock()
	if skip {
		r.skipped = true
	} else {
		r.failed = true
	}
	r.msg = fmt.Sprint(args...)
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recordingTB) Skip(args ...any)                  { r.end(true, args...) }
func (r *recordingTB) Skipf(format string, args ...any)  { r.end(true, fmt.Sprintf(format, args...)) }
func (r *recordingTB) Fatal(args ...any)                 { r.end(false, args...) }
func (r *recordingTB) Fatalf(format string, args ...any) { r.end(false, fmt.Sprintf(format, args...)) }
func (r *recordingTB) Errorf(format string, args ...any) { r.end(false, fmt.Sprintf(format, args...)) }
func (r *recordingTB) Cleanup(f func()) {
	r.mu.Lock()
	r.cleanups = append(r.cleanups, f)
	r.mu.Unlock()
}

// runRecorded runs f on a recordingTB in its own goroutine (Skip and Fatal
// end it), then runs the recorded cleanups.
func runRecorded(t *testing.T, f func(tb testing.TB)) *recordingTB {
	t.Helper()
	r := &recordingTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
	return r
}
