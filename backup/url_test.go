package backup

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseDatabaseURL(t *testing.T) {
	tests := []struct {
		in     string
		engine Engine
		path   string // SQLite
		name   string // PostgreSQL
		str    string
	}{
		{in: "sqlite:///var/lib/senfi/senfi.db", engine: SQLite, path: "/var/lib/senfi/senfi.db", str: "sqlite:///var/lib/senfi/senfi.db"},
		{in: "sqlite://senfi.db", engine: SQLite, path: "senfi.db", str: "sqlite://senfi.db"},
		{in: "sqlite:data/../senfi.db", engine: SQLite, path: "senfi.db"},
		{in: "SQLite3:///x.db", engine: SQLite, path: "/x.db"},
		{in: "file:///srv/x.db", engine: SQLite, path: "/srv/x.db"},
		{in: "file:x.db", engine: SQLite, path: "x.db"},
		{in: "/abs/path.db", engine: SQLite, path: "/abs/path.db"},
		{in: "rel.db", engine: SQLite, path: "rel.db"},
		{in: "postgres://senfi:s3cret@db:5432/senfi?sslmode=verify-full", engine: PostgreSQL, name: "senfi", str: "postgres://senfi@db:5432/senfi?sslmode=verify-full"},
		{in: "postgresql://u@h/app?password=s3cret&sslmode=disable", engine: PostgreSQL, name: "app", str: "postgres://u@h/app?sslmode=disable"},
		{in: "postgres:///app?host=/var/run/postgresql", engine: PostgreSQL, name: "app"},
		{in: "postgres://h/?dbname=other", engine: PostgreSQL, name: "other"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			d, err := ParseDatabaseURL(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.engine, d.Engine)
			assert.Equal(t, tt.path, d.Path)
			assert.Equal(t, tt.name, d.Name)
			if tt.str != "" {
				assert.Equal(t, tt.str, d.String())
			}
			assert.NotContains(t, d.String(), "s3cret")
		})
	}
	for _, bad := range []string{
		"", "sqlite://", "sqlite::memory:", ":memory:", "sqlite://x.db?_pragma=foo", "file:x.db#frag",
		"mysql://u@h/db", "postgres://h", "postgres://h/", "postgres://h/a/b",
		"postgres://u:s3cret@h:bad/db", "x\x00.db",
	} {
		t.Run("bad "+bad, func(t *testing.T) {
			_, err := ParseDatabaseURL(bad)
			require.ErrorIs(t, err, ErrUnsupportedURL)
			assert.NotContains(t, err.Error(), "s3cret")
		})
	}
}

// The client programs get the connection without the password (which
// goes through PGPASSWORD) and without parameters libpq does not know.
func TestToolConnection(t *testing.T) {
	d, err := ParseDatabaseURL("postgres://app:p%40ss@db.internal:5433/senfi?sslmode=require&pool_max_conns=10&application_name=x")
	require.NoError(t, err)
	conn, env := tool(d.pgURL)
	assert.Equal(t, "postgres://app@db.internal:5433/senfi?application_name=x&sslmode=require", conn)
	assert.Contains(t, env, "PGPASSWORD=p@ss")

	scratch := withDatabase(d.pgURL, "senfi_verify_1")
	assert.Equal(t, "/senfi_verify_1", scratch.Path)
	assert.Equal(t, "/senfi", d.pgURL.Path, "withDatabase copies")
	q, _ := url.Parse("postgres://h/?dbname=a")
	assert.Equal(t, "b", withDatabase(q, "b").Query().Get("dbname"))

	_, env = tool(mustURL(t, "postgres://app@h/db"))
	assert.False(t, slices.ContainsFunc(env, func(s string) bool { return strings.HasPrefix(s, "PGPASSWORD=p@ss") }))
}

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	require.NoError(t, err)
	return u
}

// The row-count check put into the restore transaction quotes whatever a
// metadata file claims a table is called.
func TestCountCheckSQLQuotes(t *testing.T) {
	sql := countCheckSQL([]TableCount{{Schema: `pub"lic`, Name: "it's $senfi$ x", Rows: 3}})
	assert.Contains(t, sql, `FROM "pub""lic"."it's $senfi$ x") <> 3`)
	assert.Contains(t, sql, `'pub"lic.it''s $senfi$ x'`)
	tag := sql[strings.Index(sql, "DO ")+3 : strings.Index(sql, " BEGIN")]
	assert.Equal(t, 2, strings.Count(sql, tag), "the dollar-quote tag opens and closes the block only")
}
