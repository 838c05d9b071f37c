package backup

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A backup restores to exactly the data it was taken from, for every
// compression, on both engines; the restore leaves a safety backup of what
// it replaced, and everything is reported as events.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, c := range []Compression{CompressionZstd, CompressionGzip, CompressionNone} {
		t.Run(string(c), func(t *testing.T) {
			engines(t, func(t *testing.T, live liveDB) {
				app := seed(t, live, 300)
				want := snapshot(t, app)
				m, events := testManager(t, live, func(o *Options) { o.Compression = c })
				ctx := ctxT(t)

				info, err := m.Create(ctx)
				require.NoError(t, err)
				assert.Equal(t, live.engine, info.Engine)
				assert.Equal(t, c, info.Compression)
				assert.Equal(t, int64(2), info.SchemaVersion, "goose: 3 was rolled back")
				assert.Equal(t, "test", info.AppVersion)
				assert.Equal(t, int64(299*2+5), info.Rows())
				assert.Contains(t, info.Tables, TableCount{Schema: schemaOf(live), Name: "users", Rows: 299})
				listed, err := m.List(ctx)
				require.NoError(t, err)
				require.Len(t, listed, 1)
				assert.Equal(t, info.Name, listed[0].Name)
				_, err = m.Verify(ctx, info.Name)
				require.NoError(t, err)

				// The application changes things, then stops.
				_, err = app.Exec(`DELETE FROM signatures WHERE id > 100`)
				require.NoError(t, err)
				insertUsers(t, app, 1000, 1010)
				_, err = app.Exec(`CREATE TABLE added_later (x INTEGER)`)
				require.NoError(t, err)
				changed := snapshot(t, app)
				require.NoError(t, app.Close())

				res, err := m.Restore(ctx, info.File, force) // a file name works too
				require.NoError(t, err)
				assert.Equal(t, info.Name, res.Restored.Name)
				assert.Equal(t, ReasonPreRestore, res.SafetyBackup.Reason)

				app = live.open(t)
				assert.Equal(t, want, snapshot(t, app))
				var n int
				assert.Error(t, app.Get(&n, `SELECT count(*) FROM added_later`), "the restore drops what the backup did not have")
				require.NoError(t, app.Close())

				// The safety backup undoes the restore.
				_, err = m.Restore(ctx, res.SafetyBackup.Name, force)
				require.NoError(t, err)
				app = live.open(t)
				assert.Equal(t, changed, snapshot(t, app))

				assert.Equal(t, []string{
					"backup.created", "backup.verified",
					"backup.verified", "backup.created", "backup.restored",
					"backup.verified", "backup.created", "backup.restored",
				}, events.kinds())
				h := m.Health()
				assert.Equal(t, 3, h.Count)
				assert.Empty(t, h.LastError)
			})
		})
	}
}

func schemaOf(live liveDB) string {
	if live.engine == PostgreSQL {
		return "public"
	}
	return "main"
}
