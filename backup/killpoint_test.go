package backup

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// createSteps are the points of Create after which the test hook runs, in
// order: after every write, fsync and rename. The test models a process
// crash (it copies the directory as it is at the hook); it cannot show
// that an fsync is missing, which only a power loss would reveal.
var createSteps = []string{
	"data-partial", "data-written", "data-synced", "data-renamed", "data-dir-synced",
	"meta-written", "meta-synced", "meta-renamed", "meta-dir-synced",
}

// copyDir copies the regular files of src into a new directory: the state
// a crash at this instant would leave on disk.
func copyDir(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	for _, name := range dirFiles(t, src) {
		in, err := os.Open(filepath.Join(src, name))
		require.NoError(t, err)
		out, err := os.Create(filepath.Join(dst, name))
		require.NoError(t, err)
		_, err = io.Copy(out, in)
		require.NoError(t, err)
		in.Close()
		require.NoError(t, out.Close())
	}
	return dst
}

// A crash after any write step of Create leaves no backup that lists or
// verifies as good, unless the metadata was already in place, in which
// case the backup is complete; the next Manager removes the leftovers.
func TestCreateKillPoints(t *testing.T) {
	live := sqliteLive(t)
	seed(t, live, 200)
	base, _ := testManager(t, live, nil)
	ctx := ctxT(t)

	crashes := map[string]string{} // step -> directory as the crash left it
	var seen []string
	m := withHook(t, base, func(step string) error {
		seen = append(seen, step)
		crashes[step] = copyDir(t, base.Dir())
		return nil
	})
	info, err := m.Create(ctx)
	require.NoError(t, err)
	require.Equal(t, createSteps, seen, "the hook ran at every step")

	for k, step := range createSteps {
		t.Run(step, func(t *testing.T) {
			dir := crashes[step]
			complete := k >= 7 // from meta-renamed on
			opts := Options{Dir: dir, DatabaseURL: live.url}

			// While another Manager holds the directory, nothing is swept,
			// and still nothing partial lists as good.
			unlock, ok, err := dirLock{path: filepath.Join(dir, lockName)}.tryLock(true)
			require.NoError(t, err)
			require.True(t, ok)
			busy, err := New(opts)
			require.NoError(t, err)
			good, err := busy.List(ctx)
			require.NoError(t, err)
			stats, err := busy.Stats(ctx)
			require.NoError(t, err)
			assert.Empty(t, stats.Invalid, "a crash leaves nothing that looks like a damaged backup either")
			unlock()

			// The next Manager cleans up.
			after, err := New(opts)
			require.NoError(t, err)
			left := dirFiles(t, dir)
			if !complete {
				assert.Empty(t, good)
				assert.Equal(t, []string{lockName}, left, "leftovers removed")
				return
			}
			require.Len(t, good, 1)
			assert.Equal(t, info.Name, good[0].Name)
			assert.ElementsMatch(t, []string{lockName, info.File, metaFile(info.Name)}, left)
			_, err = after.Verify(ctx, info.Name)
			assert.NoError(t, err)
		})
	}
}

// A failure at any step of Create removes what it wrote and reports it.
func TestCreateFailureCleansUp(t *testing.T) {
	live := sqliteLive(t)
	seed(t, live, 0)
	base, events := testManager(t, live, nil)
	ctx := ctxT(t)
	boom := errors.New("injected")
	for _, step := range createSteps {
		t.Run(step, func(t *testing.T) {
			m := withHook(t, base, func(s string) error {
				if s == step {
					return boom
				}
				return nil
			})
			_, err := m.Create(ctx)
			require.ErrorIs(t, err, boom)
			assert.Equal(t, []string{lockName}, dirFiles(t, base.Dir()))
			assert.Equal(t, "backup.failed:create", events.kinds()[len(events.kinds())-1])
			assert.Equal(t, OpCreate, m.Health().LastFailedOp)
		})
	}
}

// Cleanup removes the metadata before the data; a crash in between leaves
// an orphaned data file, which is not listed and is removed.
func TestOrphanedDataFileIsRemoved(t *testing.T) {
	live := sqliteLive(t)
	seed(t, live, 0)
	m, _ := testManager(t, live, nil)
	ctx := ctxT(t)
	info, err := m.Create(ctx)
	require.NoError(t, err)
	require.NoError(t, os.Remove(m.path(metaFile(info.Name))))
	// A stray file that is not ours stays.
	require.NoError(t, os.WriteFile(m.path("notes.txt"), []byte("mine"), 0o600))

	good, err := m.List(ctx)
	require.NoError(t, err)
	assert.Empty(t, good)
	assert.Equal(t, []string{lockName, "notes.txt"}, dirFiles(t, m.Dir()))
}

// Leftovers of an interrupted SQLite restore beside the live database go
// when a Manager starts; the live database and unrelated files stay.
func TestRestoreLeftoversRemovedOnStart(t *testing.T) {
	live := sqliteLive(t)
	seed(t, live, 0)
	path := strings.TrimPrefix(live.url, "sqlite://")
	dir, base := filepath.Split(path)
	stray := filepath.Join(dir, "."+base+restoreTag+"0123abcd")
	require.NoError(t, os.WriteFile(stray, []byte("half a database"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "other.db"), nil, 0o600))
	testManager(t, live, nil)
	_, err := os.Stat(stray)
	assert.True(t, errors.Is(err, os.ErrNotExist), fmt.Sprint(err))
	assert.FileExists(t, path)
	assert.FileExists(t, filepath.Join(dir, "other.db"))
}
