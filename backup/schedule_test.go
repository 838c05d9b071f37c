package backup

import (
	"context"
	"os"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The scheduler backs up every interval and applies retention, retries a
// failure after five minutes, resumes from the newest backup after a
// restart, and stops when its context ends. Time is synctest's fake clock.
func TestSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		live := sqliteLive(t)
		app := seed(t, live, 0)
		require.NoError(t, app.Close())
		m, events := testManager(t, live, nil)
		start := time.Now()

		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- m.Schedule(ctx, time.Hour, Retention{KeepLast: 2}) }()
		synctest.Wait()
		assert.Equal(t, []string{"backup.created"}, events.kinds(), "no backup yet: the first is due now")

		time.Sleep(3 * time.Hour)
		synctest.Wait()
		list, err := m.List(ctx)
		require.NoError(t, err)
		assert.Len(t, list, 2, "retention applied")
		assert.Equal(t, 4, count(events.kinds(), "backup.created"))
		assert.Equal(t, 2, count(events.kinds(), "backup.deleted"))
		assert.Equal(t, ReasonScheduled, list[0].Reason)
		assert.Equal(t, start.Add(3*time.Hour), list[0].CreatedAt.Local())

		// The database goes away: the next backup fails and is retried
		// every five minutes until it is back.
		path := m.cfg.db.Path
		require.NoError(t, os.Rename(path, path+".away"))
		time.Sleep(time.Hour + 10*time.Minute)
		synctest.Wait()
		assert.Equal(t, 3, count(events.kinds(), "backup.failed:create"))
		h := m.Health()
		assert.Equal(t, OpCreate, h.LastFailedOp)
		assert.Equal(t, start.Add(4*time.Hour+10*time.Minute), h.LastFailure.Local())
		require.NoError(t, os.Rename(path+".away", path))
		time.Sleep(5 * time.Minute)
		synctest.Wait()
		assert.Equal(t, 5, count(events.kinds(), "backup.created"))

		cancel()
		require.NoError(t, <-done)

		// A restarted scheduler waits for the newest backup to be an
		// interval old.
		ctx, cancel = context.WithCancel(context.Background())
		defer cancel()
		go func() { done <- m.Schedule(ctx, time.Hour, Retention{}) }()
		time.Sleep(59 * time.Minute)
		synctest.Wait()
		assert.Equal(t, 5, count(events.kinds(), "backup.created"))
		time.Sleep(time.Minute)
		synctest.Wait()
		assert.Equal(t, 6, count(events.kinds(), "backup.created"))
		cancel()
		require.NoError(t, <-done)

		require.Error(t, m.Schedule(context.Background(), 0, Retention{}))
		require.Error(t, m.Schedule(context.Background(), time.Hour, Retention{Daily: -1}))
	})
}
