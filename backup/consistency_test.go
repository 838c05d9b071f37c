package backup

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bulkFill adds n users with about 200 bytes each, in one statement.
func bulkFill(t testing.TB, db *sqlx.DB, n int) {
	t.Helper()
	q := fmt.Sprintf(`WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < %d)
		INSERT INTO users (id, email, name) SELECT x, 'bulk' || x || '@example.com', hex(randomblob(100)) FROM c`, n)
	if db.DriverName() == "pgx" {
		q = fmt.Sprintf(`INSERT INTO users (id, email, name)
			SELECT x, 'bulk' || x || '@example.com', repeat(md5(x::text), 6) FROM generate_series(1, %d) x`, n)
	}
	_, err := db.Exec(q)
	require.NoError(t, err)
}

// A backup taken while another goroutine commits 200 rows a second
// restores to a database that passes its integrity check, holds every row
// committed before the backup began, and matches its metadata.
func TestBackupWhileWriting(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, live liveDB) {
		app := seed(t, live, 0)
		bulkFill(t, app, 5000)
		m, _ := testManager(t, live, nil)
		ctx := ctxT(t)

		const firstID = 100000
		var committed atomic.Int64 // the highest id the writer has committed
		committed.Store(firstID - 1)
		started := make(chan struct{})
		stop := make(chan struct{})
		done := make(chan error, 1)
		go func() {
			tick := time.NewTicker(5 * time.Millisecond) // 200 rows/s
			defer tick.Stop()
			for id := int64(firstID); ; id++ {
				select {
				case <-stop:
					done <- nil
					return
				case <-tick.C:
				}
				_, err := app.Exec(app.Rebind(`INSERT INTO users (id, email, name) VALUES (?, ?, 'w')`), id, fmt.Sprintf("w%d@example.com", id))
				if err != nil {
					done <- err
					return
				}
				committed.Store(id)
				if id == firstID+10 {
					close(started)
				}
			}
		}()
		select {
		case <-started:
		case err := <-done:
			t.Fatal(err)
		}

		before := committed.Load()
		info, err := m.Create(ctx)
		require.NoError(t, err)
		after := committed.Load()
		close(stop)
		require.NoError(t, <-done)
		t.Logf("%d rows committed during the backup", after-before)

		require.NoError(t, app.Close())
		_, err = m.Restore(ctx, info.Name, force)
		require.NoError(t, err, "Restore verifies: integrity check and row counts")

		app = live.open(t)
		if live.engine == SQLite {
			var check string
			require.NoError(t, app.Get(&check, `PRAGMA integrity_check`))
			assert.Equal(t, "ok", check)
		}
		var n int64
		require.NoError(t, app.Get(&n, app.Rebind(`SELECT count(*) FROM users WHERE id BETWEEN ? AND ?`), firstID, before))
		assert.Equal(t, before-firstID+1, n, "every row committed before the backup began")
		var total int64
		require.NoError(t, app.Get(&total, `SELECT count(*) FROM users`))
		assert.Contains(t, info.Tables, TableCount{Schema: schemaOf(live), Name: "users", Rows: total})
		assert.LessOrEqual(t, total, int64(5000)+after-firstID+1)
	})
}
