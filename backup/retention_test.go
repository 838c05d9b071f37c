package backup

import (
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRetentionPlan(t *testing.T) {
	now := time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)
	at := func(s string) Info {
		ts, err := time.Parse("2006-01-02 15:04", s)
		require.NoError(t, err)
		return Info{Name: s, CreatedAt: ts}
	}
	backups := []Info{
		at("2026-03-15 11:00"), at("2026-03-15 05:00"), at("2026-03-14 23:00"),
		at("2026-03-14 10:00"), at("2026-03-13 10:00"), at("2026-03-09 10:00"),
		at("2026-03-02 10:00"), at("2026-02-20 10:00"), at("2026-01-10 10:00"),
	}
	tehran, err := time.LoadLocation("Asia/Tehran")
	require.NoError(t, err)
	tests := []struct {
		name string
		r    Retention
		keep []string
	}{
		{"zero keeps all", Retention{}, names(backups)},
		{"keep last 3", Retention{KeepLast: 3}, []string{"2026-03-15 11:00", "2026-03-15 05:00", "2026-03-14 23:00"}},
		{"max age 30h", Retention{MaxAge: 30 * time.Hour}, []string{"2026-03-15 11:00", "2026-03-15 05:00", "2026-03-14 23:00", "2026-03-14 10:00"}},
		{"max age too short keeps the newest", Retention{MaxAge: time.Minute}, []string{"2026-03-15 11:00"}},
		{"daily 3", Retention{Daily: 3}, []string{"2026-03-15 11:00", "2026-03-14 23:00", "2026-03-13 10:00"}},
		{"daily 2 in Tehran", Retention{Daily: 2, Location: tehran}, []string{"2026-03-15 11:00", "2026-03-14 10:00"}}, // 23:00 UTC is the 15th there
		{"weekly 3", Retention{Weekly: 3}, []string{"2026-03-15 11:00", "2026-03-02 10:00", "2026-02-20 10:00"}},       // ISO weeks start on Monday: the 9th to the 15th is one
		{"monthly 3", Retention{Monthly: 3}, []string{"2026-03-15 11:00", "2026-02-20 10:00", "2026-01-10 10:00"}},
		{"union", Retention{KeepLast: 1, Daily: 2, Monthly: 2}, []string{"2026-03-15 11:00", "2026-03-14 23:00", "2026-02-20 10:00"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			shuffled := slices.Clone(backups)
			slices.Reverse(shuffled)
			keep, remove := tt.r.Plan(shuffled, now)
			assert.Equal(t, tt.keep, names(keep))
			assert.Len(t, remove, len(backups)-len(keep))
			for _, r := range remove {
				assert.NotContains(t, tt.keep, r.Name)
			}
		})
	}
	keep, remove := Retention{KeepLast: 1}.Plan(nil, now)
	assert.Empty(t, keep)
	assert.Empty(t, remove)
}

func names(infos []Info) []string {
	var n []string
	for _, i := range infos {
		n = append(n, i.Name)
	}
	return n
}

// fakeClock is a settable clock for Options.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Cleanup deletes what the retention does not keep, but never the last
// good backup, even when a newer backup is damaged; damaged backups stay
// for an operator.
func TestCleanupKeepsLastGoodBackup(t *testing.T) {
	live := sqliteLive(t)
	seed(t, live, 0)
	clock := &fakeClock{t: time.Date(2026, 1, 1, 3, 0, 0, 0, time.UTC)}
	m, events := testManager(t, live, func(o *Options) { o.Now = clock.now })
	ctx := ctxT(t)
	var made []Info
	for range 4 {
		info, err := m.Create(ctx)
		require.NoError(t, err)
		made = append(made, info)
		clock.add(24 * time.Hour)
	}
	// The newest backup is damaged: its data file was truncated.
	newest := made[3]
	require.NoError(t, os.Truncate(m.path(newest.File), 10))

	clock.add(365 * 24 * time.Hour)
	deleted, err := m.Cleanup(ctx, Retention{MaxAge: time.Hour})
	require.NoError(t, err)
	assert.Equal(t, []string{made[1].Name, made[0].Name}, names(deleted))
	list, err := m.List(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{made[2].Name}, names(list), "the last good backup stays")
	assert.FileExists(t, m.path(newest.File), "damaged backups are left for an operator")
	assert.FileExists(t, m.path(metaFile(newest.Name)))
	assert.Equal(t, 2, count(events.kinds(), "backup.deleted"))

	// Again: nothing more goes.
	deleted, err = m.Cleanup(ctx, Retention{KeepLast: 1, MaxAge: time.Nanosecond})
	require.NoError(t, err)
	assert.Empty(t, deleted)
	h := m.Health()
	assert.Equal(t, 1, h.Count)
	assert.Equal(t, made[2].Name, h.LastGood.Name)
	assert.Equal(t, 365*24*time.Hour+2*24*time.Hour, h.LastGoodAge)

	_, err = m.Cleanup(ctx, Retention{KeepLast: -1})
	require.Error(t, err)
}

func count(s []string, v string) int {
	n := 0
	for _, x := range s {
		if x == v {
			n++
		}
	}
	return n
}
