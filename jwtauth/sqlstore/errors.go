package sqlstore

import "errors"

// Errors returned by [New] and [Schema], wrapped with details; test for them
// with [errors.Is].
var (
	// ErrNilDB is returned by New when db is nil.
	ErrNilDB = errors.New("sqlstore: nil database")
	// ErrUnsupportedDriver is returned for a database whose driver is neither
	// PostgreSQL (pgx, postgres) nor SQLite (sqlite, sqlite3).
	ErrUnsupportedDriver = errors.New("sqlstore: unsupported database driver")
	// ErrInvalidTablePrefix is returned for a TablePrefix that is not a
	// lowercase SQL identifier of at most 32 bytes.
	ErrInvalidTablePrefix = errors.New("sqlstore: invalid table prefix")
)
