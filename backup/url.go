package backup

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
)

// Engine is a database engine this package backs up.
type Engine string

// The supported engines.
const (
	// SQLite databases are backed up with SQLite's online backup API through
	// modernc.org/sqlite (no cgo): a page-by-page copy of one read snapshot,
	// taken while the application keeps writing.
	SQLite Engine = "sqlite"
	// PostgreSQL databases are backed up with pg_dump's custom format in an
	// exported snapshot, and restored with pg_restore through psql in one
	// transaction.
	PostgreSQL Engine = "postgres"
)

// dataExt is the first extension of a data file of the engine.
func (e Engine) dataExt() string {
	switch e {
	case SQLite:
		return "sqlite"
	case PostgreSQL:
		return "pgdump"
	}
	return ""
}

// Database is a parsed database URL: which engine, and where. Its String
// method never shows a password, so a Database may be logged.
type Database struct {
	// Engine is SQLite or PostgreSQL.
	Engine Engine
	// Path is the SQLite database file, cleaned; empty for PostgreSQL.
	Path string
	// Name is the PostgreSQL database name; empty for SQLite.
	Name string

	// pgURL is the PostgreSQL URL with its password (for the driver and for
	// PGPASSWORD); unexported so that printing a Database cannot leak it.
	pgURL *url.URL
}

// ParseDatabaseURL reads the database URL a Manager backs up:
//
//	sqlite:///var/lib/senfi/senfi.db   SQLite, absolute path
//	sqlite://senfi.db                  SQLite, relative to the working directory
//	sqlite:senfi.db, file:senfi.db     the same
//	/var/lib/senfi/senfi.db, senfi.db  a bare path is a SQLite file
//	postgres://user:pw@host:5432/senfi?sslmode=verify-full
//	postgresql://...                   PostgreSQL
//
// SQLite URLs take no query parameters (the Manager sets the pragmas it
// needs), and in-memory SQLite (":memory:", mode=memory) is refused: another
// connection cannot see it. A PostgreSQL URL must name a database. Errors
// wrap [ErrUnsupportedURL] and never quote the password.
func ParseDatabaseURL(raw string) (Database, error) {
	bad := func(format string, args ...any) (Database, error) {
		return Database{}, fmt.Errorf("%w: "+format, append([]any{ErrUnsupportedURL}, args...)...)
	}
	if raw == "" {
		return bad("empty database URL (sqlite:///path/to/file.db or postgres://user@host/dbname)")
	}
	if strings.ContainsRune(raw, 0) {
		return bad("database URL contains a NUL byte")
	}
	lower := strings.ToLower(raw)
	switch {
	case strings.HasPrefix(lower, "postgres://"), strings.HasPrefix(lower, "postgresql://"):
		return parsePostgresURL(raw)
	case strings.HasPrefix(lower, "sqlite://"):
		return sqlitePath(raw[len("sqlite://"):])
	case strings.HasPrefix(lower, "sqlite3://"):
		return sqlitePath(raw[len("sqlite3://"):])
	case strings.HasPrefix(lower, "file://"):
		return sqlitePath(raw[len("file://"):])
	case strings.HasPrefix(lower, "sqlite:"):
		return sqlitePath(raw[len("sqlite:"):])
	case strings.HasPrefix(lower, "sqlite3:"):
		return sqlitePath(raw[len("sqlite3:"):])
	case strings.HasPrefix(lower, "file:"):
		return sqlitePath(raw[len("file:"):])
	case strings.Contains(raw, "://"):
		scheme, _, _ := strings.Cut(raw, "://")
		return bad("unknown scheme %q: use sqlite:// or postgres://", truncate(scheme, 32))
	}
	return sqlitePath(raw)
}

func sqlitePath(p string) (Database, error) {
	if strings.ContainsAny(p, "?#") {
		return Database{}, fmt.Errorf("%w: SQLite URL takes no query parameters or fragment: the Manager sets the pragmas it needs", ErrUnsupportedURL)
	}
	if p == "" {
		return Database{}, fmt.Errorf("%w: SQLite URL has no file path (sqlite:///var/lib/senfi/senfi.db or sqlite://senfi.db)", ErrUnsupportedURL)
	}
	if p == ":memory:" || strings.HasPrefix(p, ":memory:") {
		return Database{}, fmt.Errorf("%w: an in-memory SQLite database cannot be backed up from another connection", ErrUnsupportedURL)
	}
	return Database{Engine: SQLite, Path: filepath.Clean(p)}, nil
}

func parsePostgresURL(raw string) (Database, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error quotes the whole URL, password included: say less.
		return Database{}, fmt.Errorf("%w: PostgreSQL URL does not parse as a URL", ErrUnsupportedURL)
	}
	name := strings.TrimPrefix(u.Path, "/")
	if q := u.Query().Get("dbname"); q != "" {
		name = q
	}
	if name == "" || strings.Contains(name, "/") {
		return Database{}, fmt.Errorf("%w: PostgreSQL URL must name one database: postgres://user@host:5432/dbname", ErrUnsupportedURL)
	}
	u.Scheme = "postgres"
	return Database{Engine: PostgreSQL, Name: name, pgURL: u}, nil
}

// String returns the database in a form safe to log: the SQLite path, or
// the PostgreSQL URL without password.
func (d Database) String() string {
	switch d.Engine {
	case SQLite:
		return "sqlite://" + d.Path
	case PostgreSQL:
		if d.pgURL == nil {
			return "postgres:///" + d.Name
		}
		return redactedURL(d.pgURL).String()
	}
	return ""
}

// redactedURL returns a copy of u without any password: neither in its user
// info nor as a password query parameter.
func redactedURL(u *url.URL) *url.URL {
	c := *u
	if c.User != nil {
		c.User = url.User(c.User.Username())
	}
	q := c.Query()
	if q.Has("password") {
		q.Del("password")
		c.RawQuery = q.Encode()
	}
	return &c
}

// pgPassword returns the password of u, from user info or query.
func pgPassword(u *url.URL) string {
	if u.User != nil {
		if p, ok := u.User.Password(); ok {
			return p
		}
	}
	return u.Query().Get("password")
}

// withDatabase returns a copy of the PostgreSQL URL u naming database name.
func withDatabase(u *url.URL, name string) *url.URL {
	c := *u
	c.Path = "/" + name
	c.RawPath = ""
	q := c.Query()
	if q.Has("dbname") {
		q.Set("dbname", name)
		c.RawQuery = q.Encode()
	}
	return &c
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
