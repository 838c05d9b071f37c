package backup

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"modernc.org/sqlite"
)

// SQLite queries.
const (
	sqliteListTables = `SELECT 'main', name FROM sqlite_schema
		WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'
		AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name`
	sqliteGooseExists = `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'goose_db_version'`
	// sqliteStepPages is how many pages one backup step copies (16 MiB of
	// 4 KiB pages): small enough for smooth progress and prompt cancel.
	sqliteStepPages = 4096
	// restoreTag marks the scratch copy a restore puts beside the live
	// database: .<db file name>.senfi-restore-<random>.
	restoreTag = ".senfi-restore-"
	// busyTimeout is how long SQLite connections of the Manager wait for a
	// lock held by the application.
	busyTimeout = "_pragma=busy_timeout(10000)"
)

// sqliteBackuper is the online-backup method of modernc.org/sqlite's
// driver connection.
type sqliteBackuper interface {
	NewBackup(dstURI string) (*sqlite.Backup, error)
}

// sqliteDriver backs up a SQLite file with the online backup API: all
// pages of one read transaction are copied, so the copy is one consistent
// instant while other connections keep writing (in WAL mode they are not
// even blocked; in rollback-journal mode they wait for the copy).
type sqliteDriver struct{ cfg *config }

var _ fileDumper = (*sqliteDriver)(nil)

// sqliteDSN returns a modernc.org/sqlite URI for the file at path.
func sqliteDSN(path string, params ...string) string {
	u := url.URL{Path: filepath.ToSlash(path)}
	return "file:" + u.EscapedPath() + "?" + strings.Join(params, "&")
}

func openSQLite(path string, params ...string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", sqliteDSN(path, params...))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// openLive opens the live database, which must exist (SQLite would
// otherwise create an empty one).
func (d *sqliteDriver) openLive() (*sql.DB, error) {
	if _, err := os.Stat(d.cfg.db.Path); err != nil {
		return nil, fmt.Errorf("SQLite database: %w", err)
	}
	return openSQLite(d.cfg.db.Path, "mode=rw", busyTimeout)
}

func (d *sqliteDriver) dumpFile(ctx context.Context, path string) (contents, error) {
	db, err := d.openLive()
	if err != nil {
		return contents{}, err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return contents{}, err
	}
	defer conn.Close()
	// One read transaction for the row counts and the page copy: the
	// snapshot starts at the first read and holds until ROLLBACK.
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		return contents{}, err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
	cont, err := d.cfg.readContents(ctx, conn, sqliteListTables, sqliteGooseExists)
	if err != nil {
		return contents{}, err
	}
	pageSize, err := queryInt(ctx, conn, "PRAGMA page_size")
	if err != nil {
		return contents{}, err
	}
	err = conn.Raw(func(dc any) error {
		b, ok := dc.(sqliteBackuper)
		if !ok {
			return errors.New("the sqlite driver offers no online backup")
		}
		bk, err := b.NewBackup(sqliteDSN(path, "_pragma=journal_mode(OFF)", "_pragma=synchronous(OFF)"))
		if err != nil {
			return fmt.Errorf("open backup destination: %w", err)
		}
		var tr *tracker
		for {
			more, err := bk.Step(sqliteStepPages)
			if err == nil && more {
				err = ctx.Err()
			}
			if tr == nil {
				tr = d.cfg.progress.start("snapshot "+filepath.Base(d.cfg.db.Path), int64(bk.PageCount())*pageSize)
			}
			tr.set(int64(bk.PageCount()-bk.Remaining()) * pageSize)
			if err != nil || !more {
				ferr := bk.Finish()
				err = errors.Join(err, ferr)
				tr.done(err)
				return err
			}
		}
	})
	if err != nil {
		return contents{}, fmt.Errorf("online backup: %w", err)
	}
	return cont, nil
}

func (d *sqliteDriver) dump(ctx context.Context, w io.Writer, tmp string) (contents, error) {
	raw := tmp + ".raw"
	defer os.Remove(raw)
	cont, err := d.dumpFile(ctx, raw)
	if err != nil {
		return contents{}, err
	}
	f, err := os.Open(raw)
	if err != nil {
		return contents{}, err
	}
	defer f.Close()
	var size int64 = -1
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}
	tr := d.cfg.progress.start("compress and write", size)
	_, err = io.Copy(w, io.TeeReader(ctxReader{ctx: ctx, r: f}, tr))
	tr.done(err)
	return cont, err
}

func (d *sqliteDriver) liveSchemaVersion(ctx context.Context) (int64, error) {
	if _, err := os.Stat(d.cfg.db.Path); errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	db, err := d.openLive()
	if err != nil {
		return 0, err
	}
	defer db.Close()
	return d.cfg.schemaVersion(ctx, db, sqliteGooseExists)
}

func (d *sqliteDriver) sweep() error {
	dir, base := filepath.Split(d.cfg.db.Path)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "."+base+restoreTag) && e.Type().IsRegular() {
			errs = append(errs, removeIfExists(filepath.Join(dir, e.Name())))
		}
	}
	return errors.Join(errs...)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (d *sqliteDriver) load(ctx context.Context, r io.Reader, rawSize int64, forRestore bool) (scratch, error) {
	// A copy meant to replace the live file must be on its file system, for
	// an atomic rename; a copy for Verify stays in the backup directory.
	path := filepath.Join(d.cfg.dir, tmpPrefix+"verify-"+randomHex(8)+".sqlite")
	if forRestore {
		dir, base := filepath.Split(d.cfg.db.Path)
		path = filepath.Join(dir, "."+base+restoreTag+randomHex(8))
	}
	sc := &sqliteScratch{d: d, path: path}
	f, err := createExclusive(path)
	if err != nil {
		return nil, err
	}
	tr := d.cfg.progress.start("restore to scratch copy", rawSize)
	_, err = io.Copy(f, io.TeeReader(ctxReader{ctx: ctx, r: r}, tr))
	tr.done(err)
	if serr := syncClose(f); err == nil {
		err = serr
	}
	if err == nil {
		err = sc.check(ctx)
	}
	if err != nil {
		sc.discard()
		return nil, err
	}
	return sc, nil
}

// sqliteScratch is a restored copy of a SQLite backup in a file.
type sqliteScratch struct {
	d    *sqliteDriver
	path string
	cont contents
}

// check runs PRAGMA integrity_check on the copy and reads its contents.
// The file came from a backup, so it is opened defensively: no trusted
// schema (views and triggers cannot call functions with side effects).
func (s *sqliteScratch) check(ctx context.Context) error {
	db, err := openSQLite(s.path, "_defensive=1", "_pragma=trusted_schema(0)", "_pragma=journal_mode(DELETE)")
	if err != nil {
		return fmt.Errorf("%w: open restored copy: %v", ErrIntegrity, err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, "PRAGMA integrity_check(20)")
	if err != nil {
		return fmt.Errorf("%w: %v", ErrIntegrity, err)
	}
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			rows.Close()
			return fmt.Errorf("%w: %v", ErrIntegrity, err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%w: %v", ErrIntegrity, err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: PRAGMA integrity_check: %s", ErrIntegrity, strings.Join(problems, "; "))
	}
	s.cont, err = s.d.cfg.readContents(ctx, db, sqliteListTables, sqliteGooseExists)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrIntegrity, err)
	}
	return nil
}

func (s *sqliteScratch) contents(context.Context) (contents, error) { return s.cont, nil }

func (s *sqliteScratch) discard() error {
	return errors.Join(removeIfExists(s.path), removeIfExists(s.path+"-journal"))
}

// ready probes whether other connections hold the live database: leaving
// WAL mode (and returning to it) or taking an exclusive lock only succeeds
// when none do. A pool that is idle in rollback-journal mode cannot be
// seen; hence the documented rule to stop the application.
func (s *sqliteScratch) ready(ctx context.Context) error {
	if _, err := os.Stat(s.d.cfg.db.Path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	conn, wal, done, err := s.d.liveConn(ctx)
	if err != nil {
		return err
	}
	defer done()
	if wal {
		_, err := conn.ExecContext(ctx, "PRAGMA journal_mode=WAL")
		return err
	}
	if _, err := conn.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		return inUse(err)
	}
	_, err = conn.ExecContext(ctx, "ROLLBACK")
	return err
}

// liveConn opens a connection to the live database and, if it is in WAL
// mode, takes it out (see leaveWAL), reporting wal; done closes it.
func (d *sqliteDriver) liveConn(ctx context.Context) (conn *sql.Conn, wal bool, done func(), err error) {
	db, err := d.openLive()
	if err != nil {
		return nil, false, nil, err
	}
	conn, err = db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, false, nil, err
	}
	done = func() { conn.Close(); db.Close() }
	var mode string
	err = conn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode)
	if err != nil {
		err = inUse(err)
	} else if wal = strings.EqualFold(mode, "wal"); wal {
		err = leaveWAL(ctx, conn)
	}
	if err != nil {
		done()
		return nil, false, nil, err
	}
	return conn, wal, done, nil
}

// leaveWAL switches q's database from WAL to rollback-journal mode, which
// folds the WAL into the file; SQLite refuses while other connections are
// open.
func leaveWAL(ctx context.Context, conn *sql.Conn) error {
	var now string
	if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode=DELETE").Scan(&now); err != nil {
		return inUse(err)
	}
	if !strings.EqualFold(now, "delete") {
		return fmt.Errorf("%w: cannot leave WAL mode while other connections are open", ErrDatabaseInUse)
	}
	return nil
}

// replace renames the checked copy over the live file: the one atomic
// step, so a failure before it leaves the old database as it was and a
// failure after it leaves the new one complete.
//
// Before the rename it takes the live database out of WAL mode (which
// folds the WAL into the file, and fails if another connection has the
// database open) and holds an exclusive lock, so no write of another
// connection is lost in between. Connections opened before the restore
// still see the old, unlinked file: the application must be stopped or
// must reopen its pool.
func (s *sqliteScratch) replace(ctx context.Context, m *Manager, _ Info) (err error) {
	live := s.d.cfg.db.Path
	fi, err := os.Stat(live)
	if errors.Is(err, os.ErrNotExist) {
		// Nothing to replace (a new server): just put the copy in place.
		if err := os.Rename(s.path, live); err != nil {
			return err
		}
		return syncDir(filepath.Dir(live))
	}
	if err != nil {
		return err
	}
	// The new file takes the old one's permissions (and owner, as root).
	if err := os.Chmod(s.path, fi.Mode().Perm()); err != nil {
		return err
	}
	sameOwner(s.path, fi)
	conn, wal, done, err := s.d.liveConn(ctx)
	if err != nil {
		return err
	}
	defer done()
	if wal {
		defer func() {
			if err != nil {
				// Put the old database back as it was.
				_, _ = conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA journal_mode=WAL")
			}
		}()
	}
	if err := m.cfg.step("restore:wal-off"); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		return inUse(err)
	}
	locked := true
	defer func() {
		if locked {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	if err := m.cfg.step("restore:locked"); err != nil {
		return err
	}
	if err := os.Rename(s.path, live); err != nil {
		return err
	}
	// The new file is in place: from here on, errors do not undo it.
	_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
	locked = false
	done()
	var errs []error
	errs = append(errs, syncDir(filepath.Dir(live)))
	if wal {
		errs = append(errs, s.d.setWAL(ctx))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("restored, but: %w", err)
	}
	return nil
}

// setWAL puts the live database in WAL mode.
func (d *sqliteDriver) setWAL(ctx context.Context) error {
	db, err := d.openLive()
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, "PRAGMA journal_mode=WAL")
	return err
}

// inUse classifies a busy or locked error as ErrDatabaseInUse.
func inUse(err error) error {
	const sqliteBusy, sqliteLocked = 5, 6 // primary result codes
	if se, ok := errors.AsType[*sqlite.Error](err); ok {
		if c := se.Code() & 0xff; c == sqliteBusy || c == sqliteLocked {
			return fmt.Errorf("%w: stop the application or close its connections, then retry: %v", ErrDatabaseInUse, err)
		}
	}
	return err
}
