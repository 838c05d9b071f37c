package backup

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// PostgreSQL specifics: other schemas and sequences are restored too,
// schemas created after the backup go, Verify's scratch database is
// dropped, and scratch databases a crashed Verify left are dropped once
// stale.
//
// Not parallel: it counts the scratch databases on the server, which the
// other tests' Verify runs create and drop.
func TestPostgresDetails(t *testing.T) {
	live := postgresLive(t)
	app := seed(t, live, 0)
	for _, q := range []string{
		`CREATE SCHEMA reports`,
		`CREATE TABLE reports.daily (id SERIAL PRIMARY KEY, note TEXT)`,
		`INSERT INTO reports.daily (note) SELECT 'n' || x FROM generate_series(1, 25) x`,
	} {
		_, err := app.Exec(q)
		require.NoError(t, err)
	}
	m, _ := testManager(t, live, nil)
	ctx := ctxT(t)
	info, err := m.Create(ctx)
	require.NoError(t, err)
	assert.Contains(t, info.Tables, TableCount{Schema: "reports", Name: "daily", Rows: 25})
	assert.Equal(t, PostgreSQL, info.Engine)
	assert.NotContains(t, info.Database, "password")

	_, err = app.Exec(`DROP SCHEMA reports CASCADE`)
	require.NoError(t, err)
	_, err = app.Exec(`CREATE SCHEMA later; CREATE TABLE later.t (x int)`)
	require.NoError(t, err)
	require.NoError(t, app.Close())

	// Old and fresh scratch databases on the server.
	admin := live.open(t)
	old := fmt.Sprintf("%s%d_%s", pgScratchPrefix, time.Now().Add(-48*time.Hour).Unix(), randomHex(6))
	fresh := fmt.Sprintf("%s%d_%s", pgScratchPrefix, time.Now().Unix(), randomHex(6))
	for _, name := range []string{old, fresh} {
		_, err = admin.Exec("CREATE DATABASE " + quoteIdent(name))
		require.NoError(t, err)
	}
	t.Cleanup(func() {
		for _, name := range []string{old, fresh} {
			_, _ = admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+quoteIdent(name)+" WITH (FORCE)")
		}
	})

	_, err = m.Restore(ctx, info.Name, force)
	require.NoError(t, err)
	app = live.open(t)
	var n int
	require.NoError(t, app.Get(&n, `SELECT count(*) FROM reports.daily`))
	assert.Equal(t, 25, n)
	var next int
	require.NoError(t, app.Get(&next, `SELECT nextval('reports.daily_id_seq')`))
	assert.Equal(t, 26, next, "sequences restored")
	assert.Error(t, app.Get(&n, `SELECT count(*) FROM later.t`))

	// The sweep runs when a Manager starts.
	_, err = New(Options{Dir: m.Dir(), DatabaseURL: live.url})
	require.NoError(t, err)
	var left []string
	require.NoError(t, admin.Select(&left, `SELECT datname FROM pg_database WHERE datname LIKE 'senfi\_verify\_%' ORDER BY 1`))
	assert.Contains(t, left, fresh, "a recent scratch database may belong to a running Verify")
	assert.NotContains(t, left, old)
	assert.Len(t, left, 1, "Verify and Restore dropped their own scratch databases")
}
