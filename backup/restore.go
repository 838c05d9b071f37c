package backup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// RestoreOptions are the per-call settings of [Manager.Restore].
type RestoreOptions struct {
	// Confirm is asked, once the backup has been verified and before
	// anything changes, whether to replace the live database with it; a
	// command-line tool prompts the operator here. Returning false cancels
	// with ErrNotConfirmed. Zero value: with Force unset, Restore refuses.
	Confirm func(ctx context.Context, backup Info) bool
	// Force restores without calling Confirm. Zero value: false.
	Force bool
}

// RestoreResult says what Restore did. When Restore fails it holds only
// SafetyBackup, if one was taken.
type RestoreResult struct {
	// Restored is the backup now live.
	Restored Info
	// SafetyBackup is the backup of the database that was replaced (Reason
	// ReasonPreRestore): restore it to undo. Zero Name when there was no
	// live database to save.
	SafetyBackup Info
}

// Restore replaces the live database with a backup, all or nothing:
//
//  1. The backup must be of the same engine, and its schema version must
//     not be newer than Options.AppSchemaVersion (or, when that is zero,
//     the live database's).
//  2. It is verified as by [Manager.Verify].
//  3. Unless opts.Force, opts.Confirm must approve.
//  4. A safety backup of the live database is taken (Reason
//     ReasonPreRestore); if that fails, nothing is restored.
//  5. The database is replaced. SQLite: the verified copy, written beside
//     the live file, is renamed over it. PostgreSQL: in one transaction,
//     every schema of the database is dropped and the dump restored
//     (pg_restore's script through psql), the row counts are checked
//     against the metadata, and the dump's SHA-256 is checked again; only
//     then is it committed.
//
// A failure at any step before the replacement leaves the live database as
// it was. On SQLite, once the new file has been renamed into place, a
// later error (syncing the directory, turning WAL back on) is returned as
// "restored, but: ...": the restored database is in place. The
// application must not use the database meanwhile: stop it, or (SQLite)
// close its pool and reopen it afterwards, because connections opened
// before the restore keep seeing the old file. SQLite refuses with
// ErrDatabaseInUse when it can tell other connections are open.
func (m *Manager) Restore(ctx context.Context, name string, opts RestoreOptions) (RestoreResult, error) {
	start := m.cfg.now()
	name = normalizeName(name)
	unlock, err := m.lock.lock(ctx, true)
	if err != nil {
		m.report(OpRestore, EventRestored, start, Info{Name: name}, Info{}, err)
		return RestoreResult{}, err
	}
	res, steps, err := m.restore(ctx, name, opts)
	unlock()
	_, _ = m.scan()
	// Events go out after the lock is released, so OnEvent may call the
	// Manager.
	if !steps.verified.IsZero() {
		m.report(OpVerify, EventVerified, start, res.Restored, Info{}, nil)
	}
	if res.SafetyBackup.Name != "" || steps.safetyErr != nil {
		m.report(OpCreate, EventCreated, steps.verified, res.SafetyBackup, Info{}, steps.safetyErr)
	}
	if err != nil {
		err = fmt.Errorf("backup: restore %s: %w", name, err)
		if res.Restored.Name == "" {
			res.Restored.Name = name
		}
	}
	m.report(OpRestore, EventRestored, start, res.Restored, res.SafetyBackup, err)
	if err != nil {
		return RestoreResult{SafetyBackup: res.SafetyBackup}, err
	}
	return res, nil
}

// restoreSteps records what restore got done, for the events.
type restoreSteps struct {
	verified  time.Time
	safetyErr error
}

func (m *Manager) restore(ctx context.Context, name string, opts RestoreOptions) (res RestoreResult, steps restoreSteps, err error) {
	info, err := m.readInfo(name)
	if err != nil {
		return res, steps, err
	}
	res.Restored = info
	if info.Engine != m.cfg.db.Engine {
		return res, steps, fmt.Errorf("%w: the backup is of %s, the database is %s", ErrEngineMismatch, info.Engine, m.cfg.db.Engine)
	}
	limit, what := m.cfg.appSchV, "Options.AppSchemaVersion"
	if limit == 0 {
		if limit, err = m.drv.liveSchemaVersion(ctx); err != nil {
			return res, steps, fmt.Errorf("read the live database's schema version: %w", err)
		}
		what = "the live database's schema version"
	}
	if info.SchemaVersion > limit {
		return res, steps, fmt.Errorf("%w: the backup has schema version %d, %s is %d", ErrNewerSchema, info.SchemaVersion, what, limit)
	}

	sc, err := m.verifyInto(ctx, info, true)
	if err != nil {
		return res, steps, err
	}
	defer sc.discard()
	steps.verified = m.cfg.now()
	if err := m.cfg.step("restore:verified"); err != nil {
		return res, steps, err
	}
	if !opts.Force && (opts.Confirm == nil || !opts.Confirm(ctx, info)) {
		return res, steps, fmt.Errorf("%w: pass a Confirm that approves, or Force", ErrNotConfirmed)
	}

	if err := sc.ready(ctx); err != nil {
		return res, steps, err
	}
	if m.liveExists() {
		safety, err := m.create(ctx, ReasonPreRestore)
		if err != nil {
			steps.safetyErr = err
			return res, steps, fmt.Errorf("safety backup of the live database failed, nothing was restored: %w", err)
		}
		res.SafetyBackup = safety
	}
	if err := m.cfg.step("restore:safety"); err != nil {
		return res, steps, err
	}
	if err := sc.replace(ctx, m, info); err != nil {
		return res, steps, err
	}
	return res, steps, nil
}

// liveExists reports whether there is a live database to save before a
// restore: always for PostgreSQL (the URL names an existing database),
// and for SQLite when the file exists.
func (m *Manager) liveExists() bool {
	if m.cfg.db.Engine != SQLite {
		return true
	}
	_, err := os.Stat(m.cfg.db.Path)
	return !errors.Is(err, os.ErrNotExist)
}
