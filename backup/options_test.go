package backup

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"filippo.io/age"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// New refuses bad or dangerous options, naming every problem at once.
func TestNewRefusesBadOptions(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite://" + filepath.Join(dir, "x.db")
	hybrid, err := age.GenerateHybridIdentity()
	require.NoError(t, err)
	classic, err := GenerateIdentity()
	require.NoError(t, err)
	worldWritable := filepath.Join(dir, "ww")
	require.NoError(t, os.Mkdir(worldWritable, 0o777))
	require.NoError(t, os.Chmod(worldWritable, 0o777))
	aFile := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(aFile, nil, 0o600))

	tests := []struct {
		name string
		opts Options
		want []string
	}{
		{"empty", Options{}, []string{"Options.Dir is empty", "Options.DatabaseURL"}},
		{"bad prefix and compression", Options{Dir: dir, DatabaseURL: db, Prefix: "../x", Compression: "lz4"}, []string{"Options.Prefix", `Options.Compression "lz4"`}},
		{"bad recipient", Options{Dir: dir, DatabaseURL: db, Recipients: []string{"age1nope"}}, []string{"Options.Recipients[0]"}},
		{"hybrid mixed with classic", Options{Dir: dir, DatabaseURL: db, Recipients: []string{hybrid.Recipient().String(), classic.Recipient()}}, []string{"Options.Recipients"}},
		{"zero identity", Options{Dir: dir, DatabaseURL: db, Identities: []Identity{{}}}, []string{"Options.Identities[0]"}},
		{"negative schema version", Options{Dir: dir, DatabaseURL: db, AppSchemaVersion: -1}, []string{"AppSchemaVersion"}},
		{"scratch for sqlite", Options{Dir: dir, DatabaseURL: db, ScratchURL: "postgres://h/x"}, []string{"ScratchURL is for PostgreSQL"}},
		{"scratch not postgres", Options{Dir: dir, DatabaseURL: "postgres://h/x", ScratchURL: "sqlite://y.db"}, []string{"ScratchURL must be a postgres"}},
		{"memory database", Options{Dir: dir, DatabaseURL: "sqlite::memory:"}, []string{"in-memory"}},
		{"world-writable dir", Options{Dir: worldWritable, DatabaseURL: db}, []string{"writable by every user"}},
		{"dir is a file", Options{Dir: aFile, DatabaseURL: db}, []string{"Options.Dir"}},
		{"missing pg_dump", Options{Dir: dir, DatabaseURL: "postgres://h/x", PGDump: filepath.Join(dir, "no-pg_dump")}, []string{"postgresql-client", "Options.PGDump"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.opts)
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
	_, err = New(Options{Dir: dir, DatabaseURL: "postgres://h/x", PSQL: filepath.Join(dir, "no-psql")})
	require.ErrorIs(t, err, ErrToolMissing)
}

// A new directory is created private to the owner; so are backup files.
func TestDirectoryAndFilesArePrivate(t *testing.T) {
	live := sqliteLive(t)
	seed(t, live, 0)
	dir := filepath.Join(t.TempDir(), "a", "b")
	m, _ := testManager(t, live, func(o *Options) { o.Dir = dir })
	info, err := m.Create(ctxT(t))
	require.NoError(t, err)
	for _, p := range []string{dir, m.path(info.File), m.path(metaFile(info.Name))} {
		fi, err := os.Stat(p)
		require.NoError(t, err)
		assert.Zero(t, fi.Mode().Perm()&0o077, p)
	}
	assert.True(t, strings.HasPrefix(info.Name, DefaultPrefix+"-"))
}

// Managers in several processes share a directory: writes exclude each
// other, and a Manager starting while another is mid-backup does not
// remove the files being written.
func TestConcurrentManagersShareDirectory(t *testing.T) {
	synctest.Test(t, testConcurrentManagers)
}

func testConcurrentManagers(t *testing.T) {
	live := sqliteLive(t)
	seed(t, live, 0)
	a, _ := testManager(t, live, nil)
	ctx := ctxT(t)

	var mu sync.Mutex
	var order []string
	record := func(who, step string) {
		mu.Lock()
		defer mu.Unlock()
		order = append(order, who+":"+step)
	}
	paused := make(chan struct{})
	resume := make(chan struct{})
	slow := withHook(t, a, func(step string) error {
		record("a", step)
		if step == "data-written" {
			close(paused)
			<-resume
		}
		return nil
	})
	done := make(chan error, 1)
	go func() { _, err := slow.Create(ctx); done <- err }()
	<-paused
	inFlight := slices.DeleteFunc(dirFiles(t, a.Dir()), func(n string) bool { return !strings.HasPrefix(n, tmpPrefix) })
	require.NotEmpty(t, inFlight)

	// A second Manager (another process) starts and lists: it must not
	// sweep the first one's temporary files.
	b, err := New(Options{Dir: a.Dir(), DatabaseURL: live.url})
	require.NoError(t, err)
	list, err := b.List(ctx)
	require.NoError(t, err)
	assert.Empty(t, list)
	for _, f := range inFlight {
		assert.FileExists(t, a.path(f))
	}
	// Its Create waits for the lock: none of its steps runs before the
	// first Create has finished.
	second := make(chan error, 1)
	go func() {
		_, err := withHook(t, b, func(step string) error { record("b", step); return nil }).Create(ctx)
		second <- err
	}()
	synctest.Wait() // both Creates are blocked: a on resume, b on the lock
	mu.Lock()
	assert.Equal(t, []string{"a:data-partial", "a:data-written"}, order)
	mu.Unlock()
	close(resume)
	require.NoError(t, <-done)
	require.NoError(t, <-second)
	list, err = b.List(ctx)
	require.NoError(t, err)
	assert.Len(t, list, 2)
	var want []string
	for _, who := range []string{"a", "b"} {
		for _, step := range createSteps {
			want = append(want, who+":"+step)
		}
	}
	assert.Equal(t, want, order)
}
