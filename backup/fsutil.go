package backup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Files and directories this package creates are private to the owner:
// backups hold every row of the database, password hashes included.
const (
	fileMode = 0o600
	dirMode  = 0o700
)

// tmpPrefix starts the name of every file being written in the backup
// directory. Such a file is never a good backup; one left by a crash is
// removed by the next Manager that takes the directory lock.
const tmpPrefix = ".tmp-"

// lockName is the lock file in the backup directory.
const lockName = ".lock"

// createExclusive creates a new file, failing if it exists.
func createExclusive(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
}

// syncDir fsyncs a directory, making the renames and removals in it
// durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncClose fsyncs and closes f.
func syncClose(f *os.File) error {
	err := f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// dirLock serializes the Managers of all processes that use one backup
// directory: writers (Create, Restore, Cleanup, sweeping leftovers) take it
// exclusively, Verify shares it, so no Manager removes a file another is
// still writing or reading.
type dirLock struct{ path string }

// lock takes the lock, waiting until ctx is done.
func (l dirLock) lock(ctx context.Context, exclusive bool) (unlock func(), err error) {
	for i := 0; ; i++ {
		unlock, ok, err := l.tryLock(exclusive)
		if err != nil || ok {
			return unlock, err
		}
		// Wait 5 ms, 20 ms, 80 ms, then 250 ms between attempts.
		t := time.NewTimer(min(5*time.Millisecond<<(2*min(i, 4)), 250*time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("backup: wait for the lock on %s: %w", filepath.Dir(l.path), context.Cause(ctx))
		case <-t.C:
		}
	}
}

// tryLock takes the lock if it is free.
func (l dirLock) tryLock(exclusive bool) (unlock func(), ok bool, err error) {
	f, err := os.OpenFile(l.path, os.O_RDWR|os.O_CREATE, fileMode)
	if err != nil {
		return nil, false, fmt.Errorf("backup: open lock file: %w", err)
	}
	ok, err = flock(f, exclusive)
	if err != nil || !ok {
		f.Close()
		if err != nil {
			err = fmt.Errorf("backup: lock %s: %w", l.path, err)
		}
		return nil, false, err
	}
	return func() { f.Close() }, true, nil // closing the file releases the lock
}

// removeIfExists removes path, ignoring a file that is already gone.
func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
