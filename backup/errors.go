package backup

import (
	"errors"
	"fmt"
)

// Sentinel errors. Operations wrap one of these (match them with
// errors.Is) together with the detail of what went wrong.
var (
	// ErrInvalidName: a backup name that is not one this package makes
	// (letters, digits, '-' and '_', no path separators or dots), so it can
	// never reach a file outside the backup directory.
	ErrInvalidName = errors.New("backup: invalid backup name")
	// ErrNotFound: no backup of that name in the directory.
	ErrNotFound = errors.New("backup: backup not found")
	// ErrIncomplete: the backup's data file or metadata is missing, or they
	// disagree (size, name, format); it is not a good backup. A crash while
	// writing, or a file changed or removed by hand, leaves one.
	ErrIncomplete = errors.New("backup: backup incomplete or inconsistent")
	// ErrInvalidMetadata: the metadata file is not valid metadata of this
	// package (bad JSON, unknown fields, out-of-range values, a newer format).
	ErrInvalidMetadata = errors.New("backup: invalid metadata")
	// ErrChecksum: the data file's SHA-256 or size differs from the metadata:
	// the file was changed or damaged after it was written.
	ErrChecksum = errors.New("backup: checksum mismatch")
	// ErrIntegrity: the restored copy failed its integrity check (SQLite
	// PRAGMA integrity_check, pg_restore/psql failure) or holds other row
	// counts or another schema version than the metadata says.
	ErrIntegrity = errors.New("backup: integrity check failed")
	// ErrNoIdentity: the backup is encrypted and none of the Manager's
	// identities (Options.Identities) can decrypt it.
	ErrNoIdentity = errors.New("backup: no identity can decrypt this backup")
	// ErrEngineMismatch: the backup was taken from another engine (SQLite vs
	// PostgreSQL) than the Manager's database.
	ErrEngineMismatch = errors.New("backup: backup is of another database engine")
	// ErrNewerSchema: the backup's schema version is newer than this
	// application knows; restoring it would hand the application tables it
	// does not understand.
	ErrNewerSchema = errors.New("backup: backup has a newer schema version")
	// ErrNotConfirmed: Restore was neither confirmed (RestoreOptions.Confirm)
	// nor forced (RestoreOptions.Force). Nothing was changed.
	ErrNotConfirmed = errors.New("backup: restore not confirmed")
	// ErrDatabaseInUse: SQLite restore found other connections to the live
	// database. Stop the application (or close its pool) and retry.
	ErrDatabaseInUse = errors.New("backup: database in use")
	// ErrToolMissing: a PostgreSQL client program (pg_dump, pg_restore,
	// psql) is not installed or not where Options says.
	ErrToolMissing = errors.New("backup: PostgreSQL client program not found")
	// ErrUnsupportedURL: the database URL names no engine this package
	// supports, or a database that cannot be backed up (in-memory SQLite).
	ErrUnsupportedURL = errors.New("backup: unsupported database URL")
)

// TableMismatchError reports a table whose row count in a restored copy
// differs from the metadata. It wraps [ErrIntegrity].
type TableMismatchError struct {
	// Table is the table, as in [TableCount.String].
	Table string
	// Want is the row count recorded in the metadata; -1 when the table is
	// not in the metadata at all.
	Want int64
	// Got is the row count of the restored copy; -1 when the table is
	// missing from it.
	Got int64
}

// Error describes the mismatch.
func (e *TableMismatchError) Error() string {
	switch {
	case e.Want < 0:
		return fmt.Sprintf("backup: integrity check failed: table %s is in the restored copy but not in the metadata", e.Table)
	case e.Got < 0:
		return fmt.Sprintf("backup: integrity check failed: table %s is missing from the restored copy", e.Table)
	}
	return fmt.Sprintf("backup: integrity check failed: table %s has %d rows, the metadata says %d", e.Table, e.Got, e.Want)
}

// Unwrap returns [ErrIntegrity].
func (e *TableMismatchError) Unwrap() error { return ErrIntegrity }
