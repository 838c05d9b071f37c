package backup

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A restore that fails at any step, down to the last one before the
// switch, leaves the old database as it was.
func TestRestoreFailureKeepsOldData(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, live liveDB) {
		app := seed(t, live, 50)
		m, _ := testManager(t, live, nil)
		ctx := ctxT(t)
		info, err := m.Create(ctx)
		require.NoError(t, err)
		insertUsers(t, app, 50, 80)
		old := snapshot(t, app)
		require.NoError(t, app.Close())

		steps := []string{"restore:verified", "restore:safety", "restore:before-commit"}
		if live.engine == SQLite {
			steps = []string{"restore:verified", "restore:safety", "restore:wal-off", "restore:locked"}
		}
		boom := errors.New("injected")
		for _, step := range steps {
			t.Run(step, func(t *testing.T) {
				reached := false
				h := withHook(t, m, func(s string) error {
					if s == step {
						reached = true
						return boom
					}
					return nil
				})
				_, err := h.Restore(ctx, info.Name, force)
				require.ErrorIs(t, err, boom)
				require.True(t, reached)
				app := live.open(t)
				assert.Equal(t, old, snapshot(t, app))
				if live.engine == SQLite {
					var mode string
					require.NoError(t, app.Get(&mode, `PRAGMA journal_mode`))
					assert.Equal(t, "wal", mode, "the old database keeps its journal mode")
				}
				require.NoError(t, app.Close())
			})
		}
		// The safety backup itself fails (its metadata cannot be synced):
		// nothing is restored.
		t.Run("safety-backup-fails", func(t *testing.T) {
			verified := false
			h := withHook(t, m, func(s string) error {
				switch {
				case s == "restore:verified":
					verified = true
				case verified && s == "meta-synced":
					return boom
				}
				return nil
			})
			_, err := h.Restore(ctx, info.Name, force)
			require.ErrorIs(t, err, boom)
			app := live.open(t)
			assert.Equal(t, old, snapshot(t, app))
			require.NoError(t, app.Close())
		})
	})
}

// Restore refuses, changing nothing and taking no safety backup, when it
// is not confirmed, when the backup is of another engine or has a newer
// schema version, and (SQLite) while the application holds connections.
func TestRestoreRefusals(t *testing.T) {
	live := sqliteLive(t)
	app := seed(t, live, 20)
	setGooseVersion(t, app, 7)
	m, events := testManager(t, live, nil)
	ctx := ctxT(t)
	info, err := m.Create(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(7), info.SchemaVersion)
	_, err = app.Exec(`DELETE FROM signatures`)
	require.NoError(t, err)
	old := snapshot(t, app)

	// The application is running: its pool holds a connection.
	_, err = m.Restore(ctx, info.Name, force)
	require.ErrorIs(t, err, ErrDatabaseInUse)
	assert.Equal(t, old, snapshot(t, app))
	require.NoError(t, app.Close())

	asked := 0
	for name, opts := range map[string]RestoreOptions{
		"no Confirm":       {},
		"Confirm declines": {Confirm: func(context.Context, Info) bool { asked++; return false }},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := m.Restore(ctx, info.Name, opts)
			require.ErrorIs(t, err, ErrNotConfirmed)
		})
	}
	assert.Equal(t, 1, asked)

	// The live database goes back to schema version 5: the backup is newer.
	app = live.open(t)
	_, err = app.Exec(`DELETE FROM goose_db_version WHERE version_id > 5`)
	require.NoError(t, err)
	old = snapshot(t, app)
	require.NoError(t, app.Close())
	_, err = m.Restore(ctx, info.Name, force)
	require.ErrorIs(t, err, ErrNewerSchema)

	// A backup claiming to be of PostgreSQL (same bytes, renamed).
	pg := info
	pg.Name = info.Name + "-pg"
	pg.Engine = PostgreSQL
	pg.File = dataFile(pg.Name, pg.Engine, pg.Compression, false)
	require.NoError(t, os.Link(m.path(info.File), m.path(pg.File)))
	meta, err := pg.marshal()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(m.path(metaFile(pg.Name)), meta, 0o600))
	_, err = m.Restore(ctx, pg.Name, force)
	require.ErrorIs(t, err, ErrEngineMismatch)
	_, err = m.Verify(ctx, pg.Name)
	require.ErrorIs(t, err, ErrEngineMismatch)

	// Names that could reach other files are refused before any I/O.
	for _, bad := range []string{"../live", "a/b", "", ".lock", "x\x00"} {
		_, err = m.Restore(ctx, bad, force)
		require.ErrorIs(t, err, ErrInvalidName, bad)
	}
	_, err = m.Restore(ctx, "senfi-nope", force)
	require.ErrorIs(t, err, ErrNotFound)

	app = live.open(t)
	assert.Equal(t, old, snapshot(t, app))
	require.NoError(t, app.Close())
	list, err := m.List(ctx)
	require.NoError(t, err)
	assert.Len(t, list, 2, "no safety backup was taken")
	assert.NotContains(t, events.kinds(), "backup.restored")

	// With AppSchemaVersion set to what this build knows, a backup from the
	// same build restores even onto an older database.
	m2, _ := testManager(t, live, func(o *Options) { o.Dir = m.Dir(); o.AppSchemaVersion = 7 })
	confirmed := false
	res, err := m2.Restore(ctx, info.Name, RestoreOptions{Confirm: func(_ context.Context, b Info) bool {
		confirmed = b.Name == info.Name
		return true
	}})
	require.NoError(t, err)
	assert.True(t, confirmed)
	assert.NotEmpty(t, res.SafetyBackup.Name)
}

// Restoring onto a server with no database file yet (disaster recovery)
// needs no safety backup.
func TestRestoreOntoMissingSQLiteFile(t *testing.T) {
	live := sqliteLive(t)
	app := seed(t, live, 30)
	want := snapshot(t, app)
	m, _ := testManager(t, live, func(o *Options) { o.AppSchemaVersion = 2 })
	ctx := ctxT(t)
	info, err := m.Create(ctx)
	require.NoError(t, err)
	require.NoError(t, app.Close())
	for _, suffix := range []string{"", "-wal", "-shm"} {
		require.NoError(t, removeIfExists(m.cfg.db.Path+suffix))
	}

	res, err := m.Restore(ctx, info.Name, force)
	require.NoError(t, err)
	assert.Empty(t, res.SafetyBackup.Name)
	assert.Equal(t, want, snapshot(t, live.open(t)))
}

// A tampered backup fails Verify (and so Restore): a changed byte fails
// the checksum; a consistent checksum with a changed row count fails the
// comparison with the restored copy; a changed size or missing data file
// is not even listed.
func TestTamperedBackupFailsVerify(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, live liveDB) {
		seed(t, live, 100)
		m, _ := testManager(t, live, nil)
		ctx := ctxT(t)
		info, err := m.Create(ctx)
		require.NoError(t, err)

		// Flip one byte in the middle of the data file.
		data, err := os.ReadFile(m.path(info.File))
		require.NoError(t, err)
		data[len(data)/2] ^= 0x40
		require.NoError(t, os.WriteFile(m.path(info.File), data, 0o600))
		_, err = m.Verify(ctx, info.Name)
		require.ErrorIs(t, err, ErrChecksum)
		_, err = m.Restore(ctx, info.Name, force)
		require.ErrorIs(t, err, ErrChecksum)
		data[len(data)/2] ^= 0x40
		require.NoError(t, os.WriteFile(m.path(info.File), data, 0o600))
		_, err = m.Verify(ctx, info.Name)
		require.NoError(t, err, "the original bytes verify again")

		// Metadata edited to claim another row count.
		edited := info
		edited.Tables = append([]TableCount(nil), info.Tables...)
		for k := range edited.Tables {
			if edited.Tables[k].Name == "users" {
				edited.Tables[k].Rows++
			}
		}
		writeMeta(t, m, edited)
		_, err = m.Verify(ctx, info.Name)
		var mismatch *TableMismatchError
		require.ErrorAs(t, err, &mismatch)
		assert.Equal(t, schemaOf(live)+".users", mismatch.Table)
		require.ErrorIs(t, err, ErrIntegrity)

		// Metadata edited to another size: not a good backup any more.
		edited = info
		edited.Size++
		writeMeta(t, m, edited)
		list, err := m.List(ctx)
		require.NoError(t, err)
		assert.Empty(t, list)
		stats, err := m.Stats(ctx)
		require.NoError(t, err)
		require.Len(t, stats.Invalid, 1)
		require.ErrorIs(t, stats.Invalid[0].Err, ErrIncomplete)
		_, err = m.Verify(ctx, info.Name)
		require.ErrorIs(t, err, ErrIncomplete)

		// Unknown fields are refused.
		writeMeta(t, m, info)
		raw, err := os.ReadFile(m.path(metaFile(info.Name)))
		require.NoError(t, err)
		var fields map[string]any
		require.NoError(t, json.Unmarshal(raw, &fields))
		fields["restore_command"] = "rm -rf /"
		raw, err = json.Marshal(fields)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(m.path(metaFile(info.Name)), raw, 0o600))
		_, err = m.Verify(ctx, info.Name)
		require.ErrorIs(t, err, ErrInvalidMetadata)

		// Metadata edited to a smaller raw size: decompression stops there
		// (the bound against a decompression bomb). SQLite's copy reads on
		// and hits the bound; pg_restore stops earlier on the cut dump.
		edited = info
		edited.RawSize = info.RawSize / 2
		writeMeta(t, m, edited)
		_, err = m.Verify(ctx, info.Name)
		require.ErrorIs(t, err, ErrIntegrity)
		if live.engine == SQLite {
			require.ErrorContains(t, err, "raw_size")
		}
	})
}

func writeMeta(t testing.TB, m *Manager, info Info) {
	t.Helper()
	b, err := info.marshal()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(m.path(metaFile(info.Name)), b, 0o600))
}
